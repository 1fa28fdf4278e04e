import type { Csr } from './csr';
import type { Vocabulary } from './vocabulary';

/**
 * A user x item interaction matrix with its id vocabularies: what every model trains on.
 * `matrix` holds weights `w_ui` after the weight mapping (duplicates summed); confidence is
 * derived from it by the model (`c = 1 + alpha*w`).
 */
export interface Interactions {
	readonly users: Vocabulary;
	readonly items: Vocabulary;
	readonly matrix: Csr;
	/**
	 * KKBox `target` per stored entry, aligned with `matrix.indices` (max over duplicate rows),
	 * or undefined when the source has no target column.
	 */
	readonly target?: Int8Array;
}
