// What a lab's handout leaves where the student's code goes (see
// tools/handout.py): a clear message, and an error for the caller.
#include "lib.h"

int lab_todo(const char *lab, const char *what)
{
  printf("lab %s: %s is not written yet\n", lab, what);
  return -E_NOSYS;
}
