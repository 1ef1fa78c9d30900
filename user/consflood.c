// Output that the terminal does not take at once: the grader stops
// reading, types a line, and this writes more than the way to the grader
// holds.  The console keeps the rest in its output ring and sends it on
// when the UART can take it again (the transmit interrupt), without making
// the writer wait: the write returns at once, and nothing is lost.
//
//   consflood        wait for a line holding N, write N bytes of numbered
//                    lines in one write, say how long it took, then wait
//                    for end of input
#include "lib.h"

#define LINE 1024        // bytes a line, with its newline (long lines: few
                         // "\r"s added, so the test needs little of the ring)

int main(int argc, char **argv)
{
  char in[64];
  int got;
  printf("consflood: ready: how many bytes?\n");
  if ((got = read(0, in, sizeof in - 1)) <= 0)
    return 1;
  in[got] = 0;
  int n = atoi(in);
  char *buf = n > 0 ? malloc(n) : 0;
  if (!buf) {
    printf("consflood: %d bytes: no\n", n);
    return 1;
  }
  for (int i = 0; i < n; i += LINE) {
    char line[LINE];
    memset(line, '0', LINE);
    snprintf(line, sizeof line, "consflood %06d ", i / LINE);
    line[17] = '0';                       // (over snprintf's terminator)
    line[LINE - 1] = '\n';
    memcpy(buf + i, line, n - i < LINE ? n - i : LINE);
  }
  uint64 t0 = rdtime();
  int r = write(1, buf, n);
  uint64 ms = (rdtime() - t0) * 1000 / usys->timebase;
  printf("\nconsflood: wrote %d bytes in %d ms\n", r, (int)ms);
  while (read(0, in, sizeof in) > 0)      // stay (init's exit would end the run
    ;                                     // before the console's ring is out)
  return r != n;
}
