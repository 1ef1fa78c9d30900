// xv6 compatibility: "kernel/types.h" for programs written for xv6.  Our
// own kernel/types.h already uses xv6's names.
#include "../../../kernel/types.h"
