// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h on the default include path
// through the alternatives system, and pkg-config adds the openblas-pthread directory).
#include <cblas.h>
