// Imported first by every browser entry (the page and the engine Worker). Zod compiles fast parsers with
// `new Function` unless told not to, and merely probing for it makes the strict Content-Security-Policy of index.html
// report an 'eval' violation: jitless parsing keeps the page free of eval altogether.
import { z } from 'zod';

z.config({ jitless: true });
