// Small self-checking helpers for test programs: count failed checks, print
// one line per failure, and a final "<prog>: all OK <token>" line the
// grader reads.  The token is a random string the grader makes for each run
// and passes as the last boot argument ("token=<hex>"); it reaches every
// program through spawn.  So a pass line cannot be printed in advance: it
// takes the program that received the token running to its end.
#include "lib.h"

const char *progname = "?";
char grade_token[16];
static int nfail;

// Record a check; print what failed.
int check(int ok, const char *fmt, ...)
{
  if (ok)
    return 1;
  char buf[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  printf("%s: FAIL: %s\n", progname, buf);
  nfail++;
  return 0;
}

// An attack must be refused with error want.  Anything else means the
// kernel let it through (or refused it for the wrong reason).
int expect_err(int64 got, int want, const char *what)
{
  if (got == -want)
    return 1;
  printf("%s: BROKEN: %s returned %ld (%s), expected -%d (%s)\n", progname, what, got,
         got < 0 ? errstr(got) : "success", want, errstr(want));
  nfail++;
  return 0;
}

int check_failures(void) { return nfail; }

// Print the verdict; the exit status for main.
int check_report(void)
{
  if (nfail == 0)
    printf("%s: all OK %s\n", progname, grade_token);
  else
    printf("%s: %d checks FAILED\n", progname, nfail);
  return nfail != 0;
}
