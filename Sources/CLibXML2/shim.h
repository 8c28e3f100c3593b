// libxml2's XML and HTML parsers and tree API (Debian: libxml2-dev; pkg-config libxml-2.0 adds
// /usr/include/libxml2).
//
// Debian builds libxml2 with ICU, so its encoding.h includes ICU's <unicode/ucnv.h>, whose enums
// then clash with the ICU copy inside Swift's Foundation (_FoundationICU). lf never touches the
// encoding-handler struct that needs it (text is decoded to UTF-8 before libxml2 sees it), so the
// ICU part of the headers is switched off here.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
