// poppler's GLib interface (Debian: libpoppler-glib-dev; pkg-config poppler-glib adds the include
// directories of poppler, GLib and cairo).
#include <poppler.h>
