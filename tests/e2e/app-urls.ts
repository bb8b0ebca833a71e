// The runs the end-to-end test and the render benchmark open, as URL queries of the app.

/**
 * Small enough for SwiftShader, large enough for the phenomena (checked first with the engine on lavapipe, 400 steps):
 * - dropout only, 64 units: seed 4 has no dead unit at any snapshot. Seeds 1 and 2 have one unit of layer 2 dead (born
 *   dead at seed 2: a ReLU unit whose 64 weights leave it <= 0 for every probe input), seed 3 a few that die and revive;
 *   the full preset (512 units, seed 1) also has one born-dead unit in layer 2. Dropout kills none in any of them.
 * - learning rate too high, 128 units at lr 1: about a quarter of layer 2 dies within 20 steps (at lr 0.5 a 128-unit
 *   net loses only a few units, and those revive).
 */
export const DROPOUT_ONLY = '?preset=dropout_only&hidden=64:relu:0.5*2&seed=4&snap=10&probe=64&steps=1000';
export const LR_TOO_HIGH = '?preset=lr_too_high&hidden=128:relu:0.5*2&lr=1&snap=10&probe=128&steps=400';

/**
 * Too wide for SwiftShader (issue 18): the 16,384 x 16,384 weights of layer 2 are 1 GiB, a buffer SwiftShader cannot
 * allocate (VK_ERROR_OUT_OF_DEVICE_MEMORY). The page must say so and train nothing.
 */
export const TOO_WIDE = '?preset=lr_too_high&hidden=16384:relu:0.5*2&snap=10&probe=64&steps=400';

/**
 * A net whose step takes seconds on SwiftShader (~1.6 GFLOP a step: two hidden layers of 2,048 units at batch 64, at
 * ~0.3-0.4 GFLOP/s), with a small probe set so that its snapshots stay short: the page must show something at once,
 * say what runs while a step does, and pause within one chunk.
 */
export const SLOW_STEP = '?preset=lr_too_high&hidden=2048:relu:0.5*2&snap=10&probe=16&probe_mode=sample&steps=1000';

/**
 * A net whose step-0 snapshot takes several pieces on SwiftShader (issue 19): one hidden layer of 262,144 units, so the
 * probe pass walks its 256 probe rows in a short slice of 4 rows and 4 of 64 (each about a GFLOP, seconds on
 * SwiftShader), a piece at least one slice. Biases at -1 (negative_bias) leave most units undecided after the first rows, some proven alive.
 */
export const STEP_ZERO_IN_PIECES = '?preset=negative_bias&hidden=262144:relu:0.5*1&snap=10&probe=256&probe_mode=sample&steps=100';
