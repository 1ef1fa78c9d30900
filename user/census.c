// Print the page census (ulib/census.c): free pages, pages by kind, user
// pages by owner, and per env whether its npages matches the page records.
// Exits 1 when the totals do not add up.
#include "lib.h"

static struct census c;

int main(int argc, char **argv)
{
  int bad = census(&c);
  census_print(&c);
  if (bad)
    return 1;
  printf("census: all OK %s\n", grade_token);
  return 0;
}
