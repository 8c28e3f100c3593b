// libzip, for the ZIP containers of DOCX and EPUB (Debian: libzip-dev).
#include <zip.h>
