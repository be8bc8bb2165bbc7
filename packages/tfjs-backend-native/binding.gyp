# Builds the Node-API addon of @zhusuan/tfjs-backend-native against the
# system OpenBLAS (Debian: libopenblas-dev; scripts/openblas-include.mjs finds
# its headers with pkg-config or in the usual places). The kernels
# (binding/kernels*.cc) are compiled twice: with AVX2+FMA (picked at load
# time when the CPU has them) and for the baseline instruction set. The
# addon's own files are listed by concern in binding/entries.h.
{
  "variables": {
    "zsn_cflags": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-Wall"],
    "zsn_kernel_sources": [
      "binding/kernels.cc",
      "binding/kernels_elementwise.cc",
      "binding/kernels_fused.cc",
      "binding/kernels_logical.cc",
      "binding/kernels_reduce.cc",
    ],
  },
  "target_defaults": {
    "cflags_cc!": ["-std=gnu++17", "-fno-exceptions"],
    "cflags_cc": ["-std=c++20"],
    "cflags!": ["-O2", "-O0", "-fno-exceptions"],
  },
  "targets": [
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": ["<@(zsn_kernel_sources)"],
      "defines": ["ZSN_NS=zsn_avx2"],
      "cflags": ["<@(zsn_cflags)", "-fPIC"],
      "conditions": [["target_arch=='x64'", {"cflags": ["-mavx2", "-mfma"]}]],
    },
    {
      "target_name": "kernels_base",
      "type": "static_library",
      "sources": ["<@(zsn_kernel_sources)"],
      "defines": ["ZSN_NS=zsn_base"],
      "cflags": ["<@(zsn_cflags)", "-fPIC"],
    },
    {
      "target_name": "zhusuan_native",
      "sources": [
        "binding/addon.cc",
        "binding/broadcast.cc",
        "binding/conv.cc",
        "binding/elementwise.cc",
        "binding/gemm.cc",
        "binding/gp.cc",
        "binding/indexing.cc",
        "binding/linalg.cc",
        "binding/log_density.cc",
        "binding/movement.cc",
        "binding/napi_args.cc",
        "binding/pool.cc",
        "binding/pooling.cc",
        "binding/random.cc",
        "binding/sgmcmc.cc",
      ],
      "dependencies": ["kernels_avx2", "kernels_base"],
      "cflags": ["<@(zsn_cflags)"],
      # node-addon-api's headers, with C++ exceptions on (what its
      # node_addon_api_except target sets). Depending on that gyp target
      # instead would make gyp write its makefiles into a folder beside this
      # package (node_modules/@zhusuan/node-addon-api in a consumer).
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/openblas-include.mjs)",
      ],
      "libraries": ["-lopenblas"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    },
  ],
}
