/** A render helper: renders the detector rows the engine sends it (see band-pool.ts). */
import { serveBands } from './band-pool.js';

serveBands(self as unknown as { onmessage: ((event: MessageEvent) => void) | null });
