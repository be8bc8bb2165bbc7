/** PNG encoding, image grids and line plots. */
export * from './png.js';
export * from './grid.js';
export * from './plot.js';
