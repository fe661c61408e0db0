// The functions are inline in include/clinux.h; this file makes CLinux a C target.
#include "clinux.h"
