/**
 * AvgPool, channels last, in one native pass: the mean over each window's
 * in-image pixels, summed in double and rounded once (the cpu kernel's
 * numbers, bit for bit).
 */
import { AvgPool } from '@tensorflow/tfjs-core';
import { nativePool } from './MaxPool.js';
import { nativeKernel } from './util.js';

export const avgPoolConfig = nativeKernel(AvgPool, (args) => nativePool(false, args));
