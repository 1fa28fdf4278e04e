/** Moved to reference_als.ts (the one float64 reference); kept for importers not yet updated. */
export { relativeError } from './reference_als';
