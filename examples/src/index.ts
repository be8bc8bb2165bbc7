/** The zoo: every example, by name. */
import { bayesianLinearRegression } from './bayesian_linear_regression.js';
import { bernoulliLatentVaeExample } from './bernoulli_latent_vae.js';
import { bnnSgmcmc } from './bnn_sgmcmc.js';
import { bnnVi } from './bnn_vi.js';
import type { ExampleDefinition } from './common/run.js';
import { gaussianMixtureSgnht } from './gaussian_mixture_sgnht.js';
import { iwae } from './iwae.js';
import { lntmMcem } from './lntm_mcem.js';
import { niceMnist } from './nice_mnist.js';
import { pmfHmc } from './pmf_hmc.js';
import { sbnRws } from './sbn_rws.js';
import { sbnVimco } from './sbn_vimco.js';
import { svgp } from './svgp.js';
import { toy2dIntractable } from './toy2d_intractable.js';
import { toyGaussian } from './toy_gaussian.js';
import { vaeConv } from './vae_conv.js';
import { vaeNf } from './vae_nf.js';
import { vaeSsl } from './vae_ssl.js';

/** Every example, in the order examples/README.md lists them. */
export const EXAMPLES: ExampleDefinition[] = [
  toyGaussian,
  toy2dIntractable,
  gaussianMixtureSgnht,
  bayesianLinearRegression,
  bnnVi,
  bnnSgmcmc,
  pmfHmc,
  svgp,
  lntmMcem,
  vaeConv,
  vaeNf,
  iwae,
  bernoulliLatentVaeExample,
  sbnVimco,
  sbnRws,
  vaeSsl,
  niceMnist,
];
