#!/bin/sh
# The container's `deadunits`: finds the NVIDIA Vulkan driver when the node has one, then runs the CLI.
#
# The NVIDIA Container Toolkit (1.12 and later, with the `graphics` capability the image asks for) mounts the
# driver's libraries and its Vulkan ICD file (/etc/vulkan/icd.d/nvidia_icd.json). Some setups mount the libraries
# without the ICD file (older toolkits, CDI specs generated without it); the Vulkan loader then sees lavapipe only
# and a GPU node computes on its CPUs. So when the driver's Vulkan library is there but no ICD file names it, one is
# written here and added with VK_ADD_DRIVER_FILES (Vulkan loader 1.3.234 and later; the image has 1.3.239).
set -e
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] &&
  ! ls /etc/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1 &&
  ldconfig -p 2>/dev/null | grep 'libGLX_nvidia\.so\.0' >/dev/null; then
  icd="${XDG_RUNTIME_DIR:-/tmp}/nvidia_icd.json"
  printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3.0"}}\n' >"$icd"
  export VK_ADD_DRIVER_FILES="$icd${VK_ADD_DRIVER_FILES:+:$VK_ADD_DRIVER_FILES}"
fi
# exec: node receives the pod's SIGTERM itself (the sweep then finishes its chunk and writes a checkpoint).
exec node /opt/deadunits/bin/deadunits.mjs "$@"
