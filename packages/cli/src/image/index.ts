/** PNG encoding and image grids. */
export * from './png.js';
export * from './grid.js';
