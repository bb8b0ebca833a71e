# The deadunits CLI in a container, for clusters: the image `deadunits sweep plan --k8s` runs (and Slurm sites that
# run containers). Its entrypoint is `deadunits`.
#
# WebGPU comes from Dawn's Vulkan backend. The image carries Mesa lavapipe (software Vulkan, from bookworm-backports,
# installed by the same scripts/setup-webgpu.sh as the development machines), so it runs on any node. On a node with
# an NVIDIA GPU, the NVIDIA Container Toolkit mounts the host driver into the container; with the `graphics`
# capability (set below) that includes its Vulkan driver and ICD file. Dawn then sees both adapters and deadunits
# takes the GPU (it asks for a high-performance adapter); DEADUNITS_DAWN="adapter=<name>" forces one.
# docker/entrypoint.sh covers toolkits that mount the driver but not its ICD file.
#
# Two stages: `build` installs every dependency and runs `npm pack` (scripts/build-package.mjs: compiled JavaScript,
# WGSL inlined); the image holds that package with its runtime dependencies only, so bin/deadunits.mjs runs lib/cli.js
# (no src/, no tsx, no TypeScript), exactly what `npm install deadunits` gives a user.
#
#   docker build -t deadunits:0.1.0 .
#   docker run --rm deadunits:0.1.0 --version
#   docker run --rm --gpus all -v "$PWD/sweeps:/sweeps" deadunits:0.1.0 sweep /sweeps/s.json --out /sweeps/s
FROM node:20-bookworm-slim AS build
WORKDIR /build
# Every dependency: the package is built with Vite and tsc (dev dependencies). NODE_ENV stays unset here: with
# NODE_ENV=production, npm ci leaves the dev dependencies out.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.package.json README.md ./
COPY bin ./bin
COPY scripts ./scripts
COPY shaders ./shaders
COPY src ./src
# npm pack runs prepack (npm run build:package); the tarball, unpacked, is the package as a user installs it.
RUN npm pack --silent && mkdir package && tar -xzf deadunits-*.tgz -C package --strip-components=1

FROM node:20-bookworm-slim

# The Vulkan loader and lavapipe (root, Debian: the script installs them from backports).
COPY scripts/setup-webgpu.sh /tmp/setup-webgpu.sh
RUN bash /tmp/setup-webgpu.sh && rm -rf /var/lib/apt/lists/* /tmp/setup-webgpu.sh

# compute,utility: the toolkit's defaults; graphics: the NVIDIA Vulkan driver and its ICD file.
# XDG_RUNTIME_DIR: Mesa warns on every start without one.
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    XDG_RUNTIME_DIR=/tmp \
    NODE_ENV=production

WORKDIR /opt/deadunits
# The packed package (bin/, lib/, scripts/, README.md, package.json) and its runtime dependencies, pinned by the
# repository's lock file (NODE_ENV=production: npm ci omits the dev dependencies, none of which the package needs).
COPY --from=build /build/package/ ./
COPY package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY docker/entrypoint.sh /usr/local/bin/deadunits
RUN chmod 755 /usr/local/bin/deadunits

# Nothing here needs root: sweeps write their folders as the user the pod runs as (give the volume's group with
# the pod's securityContext.fsGroup where it is not writable by uid 1000).
USER node
ENTRYPOINT ["deadunits"]
CMD ["--help"]
