import type { ModelMeta } from '$lib/core/model_record';

/** A metric in [0, 1] with three decimals, or a dash when absent or NaN. */
export function fmt(v: number | undefined): string {
	return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3);
}

/** Byte count in B, KB or MB. */
export function formatBytes(n: number): string {
	if (n < 1024) return `${n} B`;
	if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
	return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

/** Short parameter line of a model, e.g. `f=16 it=3 λ=0.05 α=1 (hkv)`. */
export function paramsLine(meta: ModelMeta): string {
	const p = meta.params;
	return `f=${p.factors} it=${p.iterations} λ=${p.regularization} α=${p.alpha} (${p.convention}), ${meta.weighting}`;
}

/** Seconds as `45 ms`, `12.0 s` or `3 min 04 s`. */
export function formatSeconds(s: number): string {
	if (!Number.isFinite(s)) return '–';
	if (s < 1) return `${Math.round(s * 1000)} ms`;
	if (s < 60) return `${s.toFixed(1)} s`;
	const m = Math.floor(s / 60);
	return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
}

/** A file name from a model name: letters, digits, dash and underscore only. */
export function modelFileName(name: string): string {
	const base = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'model';
	return `${base}.musicrec-model.json`;
}
