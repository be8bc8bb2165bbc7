/**
 * The LaTeX source of the report. Every number in it is read from the run's
 * files by the caller; this module only typesets.
 */
import type { EpochMetrics, EvalReport, RunConfig } from '@zhusuan/vae';
import { DELTA_SE_NOTE, formatLl, hasDeltaStderr } from './format.js';

/** Escapes text for LaTeX (paths, dataset names, commands). */
export function texEscape(s: string): string {
  return s.replace(/[\\{}$&#^_%~]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\textbackslash{}';
      case '~':
        return '\\textasciitilde{}';
      case '^':
        return '\\textasciicircum{}';
      default:
        return `\\${c}`;
    }
  });
}

/** What the report shows. */
export interface ReportInputs {
  runName: string;
  config: RunConfig;
  metrics: EpochMetrics[];
  evaluation?: EvalReport;
  /** Further evaluations with other particle counts (the run's `eval-<K>.json`), by K. */
  moreEvaluations?: EvalReport[];
  /** Paths of the figures, relative to the .tex file. */
  samples?: string;
  reconstructions?: string;
  date: string;
}

/** Formats a number with fixed decimals, or 'not evaluated'. */
export function num(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? 'not evaluated' : v.toFixed(digits);
}

function proof(): string {
  return String.raw`
\section{The evidence lower bound}
Fix an observation $\mathbf{x}$ with $p_\theta(\mathbf{x}) > 0$ and a density
$q_\phi(\mathbf{z}\mid\mathbf{x})$ on $\mathbb{R}^d$, and write
$\mathcal{L}(\mathbf{x}) = \mathbb{E}_{q}\bigl[\log p_\theta(\mathbf{x},\mathbf{z}) - \log q_\phi(\mathbf{z}\mid\mathbf{x})\bigr]$,
which equals the form $\mathbb{E}_q[\log p_\theta(\mathbf{x}\mid\mathbf{z})] - \mathrm{KL}(q_\phi(\mathbf{z}\mid\mathbf{x})\,\|\,p(\mathbf{z}))$
of the assignment because $p_\theta(\mathbf{x},\mathbf{z}) = p(\mathbf{z})\,p_\theta(\mathbf{x}\mid\mathbf{z})$.

\paragraph{Claim.} $\log p_\theta(\mathbf{x}) \ge \mathcal{L}(\mathbf{x})$, with equality if and only if
$q_\phi(\mathbf{z}\mid\mathbf{x}) = p_\theta(\mathbf{z}\mid\mathbf{x})$ for (almost) all $\mathbf{z}$.

\paragraph{Proof.} By the definition of the posterior,
$p_\theta(\mathbf{x},\mathbf{z}) = p_\theta(\mathbf{x})\,p_\theta(\mathbf{z}\mid\mathbf{x})$ for every $\mathbf{z}$.
Wherever $q_\phi(\mathbf{z}\mid\mathbf{x}) > 0$ and $p_\theta(\mathbf{z}\mid\mathbf{x}) > 0$,
\[
  \log p_\theta(\mathbf{x})
  = \bigl[\log p_\theta(\mathbf{x},\mathbf{z}) - \log q_\phi(\mathbf{z}\mid\mathbf{x})\bigr]
  + \bigl[\log q_\phi(\mathbf{z}\mid\mathbf{x}) - \log p_\theta(\mathbf{z}\mid\mathbf{x})\bigr].
\]
The left side does not depend on $\mathbf{z}$; taking the expectation over $\mathbf{z}\sim q_\phi(\cdot\mid\mathbf{x})$ gives the
decomposition
\begin{equation}
  \log p_\theta(\mathbf{x}) = \mathcal{L}(\mathbf{x}) + \mathrm{KL}\bigl(q_\phi(\cdot\mid\mathbf{x})\,\big\|\,p_\theta(\cdot\mid\mathbf{x})\bigr).
  \label{eq:decomposition}
\end{equation}
(If $q_\phi$ puts positive mass where the posterior vanishes, the Kullback--Leibler divergence is $+\infty$ and
$\mathcal{L}(\mathbf{x}) = -\infty$, and the claim holds trivially.) It remains to show Gibbs' inequality:
$\mathrm{KL}(q\,\|\,p) \ge 0$, with equality if and only if $q = p$ almost everywhere.
Let $S = \{\mathbf{z} : q(\mathbf{z}) > 0\}$. Since $\log$ is concave, Jensen's inequality gives
\[
  -\mathrm{KL}(q\,\|\,p) = \mathbb{E}_{q}\Bigl[\log \frac{p(\mathbf{z})}{q(\mathbf{z})}\Bigr]
  \;\le\; \log \mathbb{E}_{q}\Bigl[\frac{p(\mathbf{z})}{q(\mathbf{z})}\Bigr]
  = \log \int_S p(\mathbf{z})\,\mathrm{d}\mathbf{z} \;\le\; \log 1 = 0 .
\]
Because $\log$ is \emph{strictly} concave, the first inequality is an equality if and only if the ratio
$p(\mathbf{z})/q(\mathbf{z})$ equals a constant $c$ for $q$-almost every $\mathbf{z}$; the second is an equality if and
only if $p$ has all its mass on $S$. Together: $p = c\,q$ almost everywhere on $S$ and $p = 0$ almost everywhere off
$S$, and integrating gives $c = 1$, i.e.\ $q = p$ almost everywhere. Conversely, $q = p$ almost everywhere makes the
integrand of the divergence zero almost everywhere. With \eqref{eq:decomposition}, $\log p_\theta(\mathbf{x}) -
\mathcal{L}(\mathbf{x}) = \mathrm{KL} \ge 0$, with equality exactly when $q_\phi(\cdot\mid\mathbf{x}) =
p_\theta(\cdot\mid\mathbf{x})$. \hfill$\square$

\paragraph{Equality \emph{for all} $\mathbf{z}$.} A density is defined only up to a set of Lebesgue measure zero: changing it on a
null set changes no probability and no expectation, so neither side of the claim can see such a change. The precise
condition is therefore equality \emph{almost everywhere}; when both densities are continuous (as for a Gaussian
$q_\phi$ and the posterior of a model with continuous densities) almost-everywhere equality is the same as equality for
every $\mathbf{z}\in\mathbb{R}^d$, which is the statement of the assignment.
`;
}

function modelSection(c: ReportInputs['config']): string {
  const h = c.hidden;
  return String.raw`
\section{Model and variational family}
The generative model and the variational posterior are those of the assignment, with $d = ${c.zDim}$:
\begin{align*}
  \mathbf{z} &\sim \mathcal{N}(\mathbf{0}, \mathbf{I}_{${c.zDim}}), &
  \mathbf{x}_{\text{logits}} &= \mathrm{NN}_\theta(\mathbf{z}), &
  \mathbf{x} &\sim \mathrm{Bernoulli}\bigl(\operatorname{sigmoid}(\mathbf{x}_{\text{logits}})\bigr),\\
  (\boldsymbol{\mu}, \log\boldsymbol{\sigma}) &= \mathrm{NN}_\phi(\mathbf{x}), &
  q_\phi(\mathbf{z}\mid\mathbf{x}) &= \mathcal{N}\bigl(\boldsymbol{\mu}, \operatorname{diag}(\boldsymbol{\sigma}^2)\bigr).
\end{align*}
$\mathrm{NN}_\theta$ is a multilayer perceptron ${c.zDim}--${h}--${h}--${c.xDim} and $\mathrm{NN}_\phi$ one
${c.xDim}--${h}--${h} with two linear heads of size ${c.zDim} (mean and log standard deviation); hidden layers use
ReLU. Both are written with the library's \texttt{BayesianNet}; the essential lines are
\begin{lstlisting}
const model = zs.metaBayesianNet((bn, n, k) => {
  const z = bn.normal('z', tf.zeros([n, zDim]), { std: 1, groupNdims: 1, nSamples: k });
  bn.bernoulli('x', decoder(z), { groupNdims: 1 });
});
const q = new zs.BayesianNet();
q.normal('z', zMean(h), { logstd: zLogstd(h), groupNdims: 1, nSamples: k });
const lb = zs.elbo((obs) => model.observe(obs, n, k), { x }, { variational: q, axis: 0 });
optimizer.minimize(() => tf.mean(lb.sgvb()));
\end{lstlisting}
`;
}

/**
 * The curve's lower limit: with more than a few epochs the first one (far
 * below the rest) is clipped so the later epochs keep their resolution.
 */
function yMin(metrics: EpochMetrics[]): string {
  if (metrics.length <= 3) return '';
  const rest = metrics.slice(1).map((m) => Math.min(m.train_elbo, m.valid_elbo ?? Infinity));
  return `, ymin=${Math.floor(Math.min(...rest)) - 2}`;
}

function trainingSection(r: ReportInputs): string {
  const c = r.config;
  const last = r.metrics[r.metrics.length - 1];
  const objective =
    c.objective === 'elbo'
      ? `the ELBO with the SGVB (reparameterisation) estimator and ${c.particles === 1 ? 'one sample' : `the average over ${c.particles} samples`} of $\\mathbf{z}$ per image`
      : `the importance-weighted bound with $K = ${c.particles}$ samples (${c.objective === 'iwae' ? 'IWAE gradient' : 'VIMCO estimator'})`;
  const schedule =
    c.lrDecayEvery > 0 && c.lrDecay !== 1
      ? `multiplied by ${c.lrDecay} every ${c.lrDecayEvery} epochs`
      : 'constant';
  const data =
    c.validation > 0
      ? `${60000 - c.validation} training images (${c.validation} held out for validation)`
      : 'all training images';
  const points = r.metrics.map((m) => `${m.epoch} ${m.train_elbo.toFixed(4)}`).join('\\\\\n');
  const valid = r.metrics.filter((m) => m.valid_elbo !== undefined);
  const validPlot = valid.length
    ? String.raw`\addplot[thick, orange] table[row sep=\\] {epoch elbo\\
${valid.map((m) => `${m.epoch} ${m.valid_elbo!.toFixed(4)}`).join('\\\\\n')}\\};
\addlegendentry{validation ELBO}`
    : '';
  return String.raw`
\section{Training}
The model was trained on ${data} of \texttt{${texEscape(c.dataset)}} for ${last?.epoch ?? 0} epochs, maximising
${objective}, with Adam (learning rate ${c.lr}, ${schedule}), minibatches of ${c.batchSize} and \emph{dynamic
binarisation}: every minibatch is a fresh Bernoulli draw with the pixel intensities as probabilities. The test set was
not opened during training. The run took ${num(last ? last.seconds / 60 : undefined, 1)} minutes on the
\texttt{${texEscape(last?.backend ?? 'unknown')}} backend (${num(last ? last.seconds / last.epoch : undefined, 2)} s
per epoch). Figure~\ref{fig:curve} shows the bound averaged over each epoch's minibatches.

\begin{figure}[h]
\centering
\begin{tikzpicture}
\begin{axis}[width=0.85\textwidth, height=6cm, xlabel={epoch}, ylabel={nats per image},
  grid=major, legend pos=south east${yMin(r.metrics)}]
\addplot[thick, blue] table[row sep=\\] {epoch elbo\\
${points}\\};
\addlegendentry{training ${c.objective === 'elbo' ? 'ELBO' : 'bound'}}
${validPlot}
\end{axis}
\end{tikzpicture}
\caption{Training curve (run \texttt{${texEscape(r.runName)}}).}
\label{fig:curve}
\end{figure}
`;
}

function resultsSection(r: ReportInputs): string {
  const e = r.evaluation;
  const evals = [...(e ? [e] : []), ...(r.moreEvaluations ?? [])];
  const llCell = (m: EvalReport) => formatLl(m, num, '$\\pm$', '$^\\dagger$');
  const deltaNote = evals.some(hasDeltaStderr)
    ? ` $^\\dagger$${texEscape(DELTA_SE_NOTE.slice(1))}`
    : '';
  const last = r.metrics[r.metrics.length - 1];
  const figs = [
    r.samples
      ? String.raw`\begin{subfigure}[t]{0.44\textwidth}\centering\includegraphics[width=\linewidth]{${r.samples}}
\caption{Generations: $\operatorname{sigmoid}(\mathrm{NN}_\theta(\mathbf{z}))$, $\mathbf{z}\sim p(\mathbf{z})$.}\end{subfigure}`
      : String.raw`\begin{subfigure}[t]{0.44\textwidth}\centering No sample grid in the run.\end{subfigure}`,
    r.reconstructions
      ? String.raw`\begin{subfigure}[t]{0.54\textwidth}\centering\includegraphics[width=\linewidth]{${r.reconstructions}}
\caption{Test images (left of each pair) and their reconstructions from $\mathbb{E}_q[\mathbf{z}]$.}\end{subfigure}`
      : String.raw`\begin{subfigure}[t]{0.54\textwidth}\centering No reconstruction grid in the run (run \texttt{zhusuan sample}).\end{subfigure}`,
  ];
  const evalText = e
    ? String.raw`The test set (${e.n_test} images) was binarised once with a fixed seed. The test ELBO uses one sample per
image; the log-likelihood is the importance-sampling estimate
$\log \frac1K\sum_{k=1}^K p_\theta(\mathbf{x},\mathbf{z}_k)/q_\phi(\mathbf{z}_k\mid\mathbf{x})$ with $\mathbf{z}_k\sim q_\phi$ and
$K = ${e.particles}$, averaged over the images; $\pm$ gives its Monte-Carlo standard error, estimated from the
difference between two independent halves of each image's particles. The evaluation took
${num(e.seconds, 0)} s.`
    : 'The run has not been evaluated on the test set (no \\texttt{eval.json}); run \\texttt{zhusuan eval}.';
  return String.raw`
\section{Results}
${evalText}

\begin{table}[h]
\centering
\begin{tabular}{lr}
\toprule
epochs & ${last?.epoch ?? 0} \\
wall time (training) & ${num(last ? last.seconds / 60 : undefined, 1)} min \\
backend & \texttt{${texEscape(last?.backend ?? 'unknown')}} \\
final training bound (nats) & ${num(last?.train_elbo)} \\
test ELBO (nats) & ${num(e?.test_elbo)} \\
test log-likelihood, IS with $K = ${e ? e.particles : '\\cdot'}$ (nats) & ${e ? llCell(e) : 'not evaluated'} \\
${(r.moreEvaluations ?? []).map((m) => `test log-likelihood, IS with $K = ${m.particles}$ (nats) & ${llCell(m)} \\\\`).join('\n')}
\bottomrule
\end{tabular}
\caption{Results of run \texttt{${texEscape(r.runName)}}, read from its \texttt{metrics.jsonl} and \texttt{eval*.json}.${deltaNote}}
\label{tab:results}
\end{table}

\begin{figure}[h]
\centering
${figs.join('\\hfill\n')}
\caption{The learned model.}
\end{figure}
`;
}

function numericalCheck(): string {
  return String.raw`
\section{The bound checked numerically}
The library's test suite checks the decomposition \eqref{eq:decomposition} on a model where every term is exact:
$\mathbf{z}\sim\mathcal{N}(\mathbf{0},\mathbf{I}_3)$, $\mathbf{x}\mid\mathbf{z}\sim\mathcal{N}(\mathbf{W}\mathbf{z}+\mathbf{b},
\sigma^2\mathbf{I}_5)$, for which $\log p(\mathbf{x})$ and the Gaussian posterior $p(\mathbf{z}\mid\mathbf{x})$ have closed
forms (\texttt{packages/zhusuan/test/proof/elbo\_gap.test.ts}). For several Gaussian $q$, the ELBO computed by the
library with $20\,000$ samples falls below $\log p(\mathbf{x})$ by $\mathrm{KL}(q\,\|\,p(\mathbf{z}\mid\mathbf{x}))$ within
five Monte-Carlo standard errors; with $q$ set to the exact posterior every log-weight equals $\log p(\mathbf{x})$ (the
gap is zero to float precision); and the importance-sampling estimate rises towards $\log p(\mathbf{x})$ from below as
the number of particles grows from 1 to 1000.
`;
}

/** The whole LaTeX document. */
export function reportTex(r: ReportInputs): string {
  const c = r.config;
  const preamble = [
    '\\documentclass[11pt,a4paper]{article}',
    '\\usepackage[margin=2.3cm]{geometry}',
    '\\usepackage{amsmath,amssymb}',
    '\\usepackage{graphicx}',
    '\\usepackage{subcaption}',
    '\\usepackage{booktabs}',
    '\\usepackage{listings}',
    '\\usepackage{pgfplots}',
    '\\pgfplotsset{compat=1.16}',
    '\\usepackage[hidelinks]{hyperref}',
    '\\lstset{basicstyle=\\ttfamily\\small, columns=fullflexible, frame=single, breaklines=true}',
  ].join('\n');
  return String.raw`${preamble}
\title{Variational autoencoder on MNIST\\\large with zhusuan-ts, ZhuSuan in TypeScript}
\author{Run \texttt{${texEscape(r.runName)}}}
\date{${texEscape(r.date)}}
\begin{document}
\maketitle
\begin{abstract}
A variational autoencoder with a ${c.zDim}-dimensional Gaussian latent space and a Bernoulli decoder, trained on
\texttt{${texEscape(c.dataset)}} with ${c.objective === 'elbo' ? 'the ELBO and the SGVB estimator' : 'an importance-weighted bound'}.
The test log-likelihood is ${r.evaluation ? `${num(r.evaluation.test_ll)} nats (importance sampling, $K = ${r.evaluation.particles}$)` : 'not evaluated'};
all numbers and figures come from the run's files.
\end{abstract}
${proof()}
${modelSection(c)}
${trainingSection(r)}
${resultsSection(r)}
${numericalCheck()}
\paragraph{Reproduce.} \texttt{${texEscape(c.command ?? 'zhusuan train')}}, then \texttt{zhusuan eval}, \texttt{zhusuan sample}
and \texttt{zhusuan report} on the same run directory.
\end{document}
`;
}
