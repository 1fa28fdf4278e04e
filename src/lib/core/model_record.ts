import type { AlsParams } from './als/params';
import type { Weighting } from './data/weights';

/** Where a model's training data came from; the fingerprint is a SHA-256 of the file bytes. */
export interface DatasetRef {
	readonly name: string;
	readonly fingerprint: string;
	readonly users: number;
	readonly items: number;
	readonly nnz: number;
	/**
	 * Median of the file's play-count column, before weighting (absent for files without one):
	 * a person's history folded into the model is read on this scale.
	 */
	readonly medianPlays?: number;
}

/** Held-out quality stored with a model (docs/design.md, evaluation); absent when trained without holdout. */
export interface ModelMetrics {
	readonly k: number;
	readonly precision: number;
	readonly recall: number;
	readonly ndcg: number;
	readonly map: number;
	readonly auc?: number;
	readonly popularity: {
		readonly precision: number;
		readonly recall: number;
		readonly ndcg: number;
		readonly map: number;
		readonly auc?: number;
	};
	readonly evalUsers: number;
}

/** Everything about a model except its factors: what a model list shows. */
export interface ModelMeta {
	readonly id: string;
	readonly name: string;
	readonly type: 'als';
	readonly createdAt: string;
	readonly params: AlsParams;
	readonly weighting: Weighting;
	readonly holdout: boolean;
	readonly dataset: DatasetRef;
	readonly metrics?: ModelMetrics;
	readonly training: {
		readonly seconds: number;
		readonly sweeps: number;
		readonly backend: string;
		/** How the CG solves ran: the fused kernel or stock tfjs ops (absent in older files). */
		readonly solver?: 'kernel' | 'ops';
		/** Threads of the fused kernel (absent in older files). */
		readonly threads?: number;
		/**
		 * The kernel solved rows with few entries exactly (true) or every row by CG (false);
		 * absent for stock ops, which always use CG, and in older files.
		 */
		readonly exactShortRows?: boolean;
		/**
		 * Fallbacks taken while training, in words (kernel helpers that did not start, a kernel
		 * that did not load); absent when there was none.
		 */
		readonly notes?: readonly string[];
		/** Loss after each sweep. */
		readonly loss: readonly number[];
	};
	/** Bytes of the factor arrays and id lists as stored. */
	readonly sizeBytes: number;
}

/** A whole model: metadata, id vocabularies and factors (row-major, `factors` columns). */
export interface ModelRecord {
	readonly meta: ModelMeta;
	readonly userIds: readonly string[];
	readonly itemIds: readonly string[];
	/** Item names aligned with itemIds ('' where unknown); absent when the data had none. */
	readonly itemNames?: readonly string[];
	readonly userFactors: Float32Array;
	readonly itemFactors: Float32Array;
}

/** How a model was trained, for people: "wasm, fused kernel on 2 threads", "webgl, tfjs ops". */
export function trainingEngine(t: ModelMeta['training']): string {
	if (t.solver === 'kernel') {
		const threads = t.threads ?? 1;
		const rows = t.exactShortRows === false ? ', CG on every row' : '';
		return `${t.backend}, fused kernel${threads > 1 ? ` on ${threads} threads` : ''}${rows}`;
	}
	return t.solver === 'ops' ? `${t.backend}, tfjs ops` : t.backend;
}
