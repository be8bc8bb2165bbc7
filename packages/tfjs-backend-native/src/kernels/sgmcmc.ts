/**
 * The zhusuan library's optional SG-MCMC kernel (see OPTIONAL_KERNELS in the
 * library for the contract): `ZsSgmcmcUpdate` runs one sampler's update of
 * one latent after its gradient — SGLD, PSGLD, SGHMC or SGNHT by the
 * attribute `kind`, first or second order — in one pass instead of 3 to 14
 * element-wise kernels and 3 to 6 of reductions and checks, and returns
 * beside the new latent and state the scalars the sampler reads back (the
 * finiteness flag of the new latent, mean(v²), mean(α)), rounded as Square
 * and Mean round on this backend.
 */
import { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { SgmcmcKind } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

export const ZS_SGMCMC_UPDATE = 'ZsSgmcmcUpdate';

/** The kinds, their op codes, the constants' attribute names in the addon's order, and the check length. */
const KINDS: Record<string, { code: SgmcmcKind; consts: string[]; nCheck: number }> = {
  sgld: { code: SgmcmcKind.Sgld, consts: ['gradScale'], nCheck: 1 },
  psgld: {
    code: SgmcmcKind.Psgld,
    consts: ['decay', 'oneMinusDecay', 'epsilon', 'learningRate', 'gradScale'],
    nCheck: 1,
  },
  sghmc: { code: SgmcmcKind.Sghmc, consts: ['momentumScale', 'learningRate'], nCheck: 2 },
  sgnht: { code: SgmcmcKind.Sgnht, consts: ['learningRate', 'tuneScale'], nCheck: 3 },
};

function values(
  backend: NativeBackend,
  t: TensorInfo | undefined,
  what: string,
  n: number,
): Float32Array {
  if (t === undefined) throw new Error(`${ZS_SGMCMC_UPDATE}: input ${what} is missing`);
  const v = f32(backend, t);
  if (v === null) throw new Error(`${ZS_SGMCMC_UPDATE}: ${what} must be a float32 tensor`);
  if (v.length !== n && !(what === 'alpha' && v.length === 1)) {
    throw new Error(
      `${ZS_SGMCMC_UPDATE}: ${what} has shape [${t.shape}], expected the latent's` +
        (what === 'alpha' ? ' or a scalar' : ''),
    );
  }
  return v;
}

function sgmcmcUpdate({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const a = (attrs ?? {}) as Record<string, unknown>;
  const kind = KINDS[a.kind as string];
  if (kind === undefined) {
    throw new Error(
      `${ZS_SGMCMC_UPDATE}: kind must be one of ${Object.keys(KINDS).join(', ')}, got ${String(a.kind)}`,
    );
  }
  const consts = new Float32Array(5);
  kind.consts.forEach((name, j) => {
    const c = a[name];
    if (typeof c !== 'number') {
      throw new Error(
        `${ZS_SGMCMC_UPDATE}: attribute ${name} must be a number for kind ${String(a.kind)}`,
      );
    }
    consts[j] = c;
  });
  const { q } = inputs;
  if (q === undefined) throw new Error(`${ZS_SGMCMC_UPDATE}: input q is missing`);
  const n = sizeOf(q.shape);
  const qv = values(backend, q, 'q', n);
  const g = values(backend, inputs.grad, 'grad', n);
  const noise = values(backend, inputs.noise, 'noise', n);
  const hasV = kind.code !== SgmcmcKind.Sgld;
  const hasAlpha = kind.code === SgmcmcKind.Sgnht;
  const v = hasV ? values(backend, inputs.v, 'v', n) : null;
  const alpha = hasAlpha ? values(backend, inputs.alpha, 'alpha', n) : null;
  const qOut = backend.allocF32(n);
  const vOut = hasV ? backend.allocF32(n) : null;
  const alphaOut = alpha !== null ? backend.allocF32(alpha.length) : null;
  const check = backend.allocF32(kind.nCheck);
  backend.addon.sgmcmcUpdate(
    kind.code,
    Boolean(a.secondOrder),
    qv,
    g,
    noise,
    v,
    alpha,
    qOut,
    vOut,
    alphaOut,
    check,
    consts,
  );
  const out = [backend.makeOutputF32(q.shape, qOut)];
  if (vOut !== null) out.push(backend.makeOutputF32(q.shape, vOut));
  if (alphaOut !== null) out.push(backend.makeOutputF32(inputs.alpha.shape, alphaOut));
  out.push(backend.makeOutputF32([kind.nCheck], check));
  return out;
}

export const sgmcmcConfigs: KernelConfig[] = [nativeKernel(ZS_SGMCMC_UPDATE, sgmcmcUpdate)];
