# Sourced by test.sh and sanitize.sh. The tools correct OpenBLAS's kernel choice on CPUs newer than
# it (BLASKernelChoice) by executing themselves again; a test process cannot, so it gets the choice
# the tools make. An empty OPENBLAS_CORETYPE counts as unset, as it does for the tools.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -x .build/release/lf-bench ]; then
  core=$(.build/release/lf-bench blas)
  [ -z "$core" ] || export OPENBLAS_CORETYPE=$core
fi
