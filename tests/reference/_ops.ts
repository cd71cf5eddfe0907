// The float64 operations of the reference forward pass (private), each as transformers defines
// it. Shapes are row-major: [tokens, features] or [tokens, heads, head_dim].

/** y[i] = x[i] / sqrt(mean(x[i]^2) + eps) * weight, per row of x [n, d]. */
export function rmsNorm(
  x: Float64Array,
  n: number,
  d: number,
  weight: Float64Array,
  eps: number,
): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[i * d + j] ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j] * inv * weight[j];
  }
  return out;
}

/** x [n, inDim] times W^T, W [outDim, inDim] (torch Linear), plus bias [outDim]. */
export function linear(
  x: Float64Array,
  n: number,
  inDim: number,
  weight: Float64Array,
  outDim: number,
  bias?: Float64Array,
): Float64Array {
  const out = new Float64Array(n * outDim);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let j = 0; j < inDim; j++) s += x[i * inDim + j] * weight[o * inDim + j];
      out[i * outDim + o] = s;
    }
  }
  return out;
}

/** Rotate-half RoPE in place on x [n, heads, hd]: token i sits at position i. */
export function rope(x: Float64Array, n: number, heads: number, hd: number, theta: number): void {
  const half = hd / 2;
  for (let pos = 0; pos < n; pos++) {
    for (let hh = 0; hh < heads; hh++) {
      const base = (pos * heads + hh) * hd;
      for (let i = 0; i < half; i++) {
        const angle = pos * Math.pow(theta, (-2 * i) / hd);
        const c = Math.cos(angle), s = Math.sin(angle);
        const a = x[base + i], b = x[base + i + half];
        x[base + i] = a * c - b * s;
        x[base + i + half] = b * c + a * s;
      }
    }
  }
}

/** Causal softmax(q k^T / sqrt(hd)) v with grouped KV heads; q [n, heads, hd], k/v [n, kvHeads, hd]. */
export function attention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  n: number,
  heads: number,
  kvHeads: number,
  hd: number,
): Float64Array {
  const out = new Float64Array(n * heads * hd);
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(hd);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let hh = 0; hh < heads; hh++) {
      const kvh = Math.floor(hh / group);
      const qo = (i * heads + hh) * hd;
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        const ko = (j * kvHeads + kvh) * hd;
        let s = 0;
        for (let t = 0; t < hd; t++) s += q[qo + t] * k[ko + t];
        scores[j] = s * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j <= i; j++) {
        const vo = (j * kvHeads + kvh) * hd, pj = scores[j] / sum;
        for (let t = 0; t < hd; t++) out[qo + t] += pj * v[vo + t];
      }
    }
  }
  return out;
}

/** a += b elementwise. */
export function addInPlace(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}
