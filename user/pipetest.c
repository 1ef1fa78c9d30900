// Pipes and file descriptors: data arrives intact and in order, EOF when
// every writer has closed (or exited), a broken pipe when every reader
// has, descriptors shared across fork and by dup/dup2.
#include "lib.h"

// A reader of an empty pipe and a writer to a full one sleep until the
// other end acts: the kernel does not schedule them meanwhile (an env that
// spins, or only yields, is scheduled every slice: tens of times here).
static void check_asleep(envid_t c, const char *who)
{
  int before = uenvs[ENVX(c)].runs;
  for (int tick = 0; tick < 30; tick++) {       // (until it has settled: at most 3 s)
    sleep(1);
    int now = uenvs[ENVX(c)].runs;
    if (now == before)
      break;
    before = now;
  }
  sleep(3);
  int ran = uenvs[ENVX(c)].runs - before;
  check(ran <= 2, "%s ran %d times in 0.3 s while it waited", who, ran);
}

int main(int argc, char **argv)
{
  int p[2], status;
  char buf[512];

  // A write that exactly fills an empty pipe goes in at once (the ring holds
  // PIPEBUF = 4,032 bytes): one env writes and then reads it all back.
  {
    static char big[4032], back[4032];
    for (int i = 0; i < (int)sizeof big; i++)
      big[i] = (char)(i * 13 + 5);
    check(pipe(p) == 0, "pipe");
    check(write(p[1], big, sizeof big) == (int)sizeof big, "a write that fills the pipe exactly");
    int got = 0, r;
    while (got < (int)sizeof back && (r = read(p[0], back + got, sizeof back - got)) > 0)
      got += r;
    check(got == (int)sizeof back && memcmp(big, back, sizeof big) == 0, "the pipe's full contents back");
    close(p[0]);
    close(p[1]);
  }

  // Waiting means sleeping.  A writer with 10 bytes of room and 50 to
  // write puts none of them in (a write of at most PIPEBUF bytes stays
  // whole) and sleeps until a read makes room for all 50; a read that
  // makes too little room wakes it, and it sleeps again.
  {
    static char fill[4032];
    check(pipe(p) == 0, "pipe");
    envid_t w = fork();
    if (w == 0) {
      close(p[0]);
      memset(fill, 'f', 4022);
      memset(buf, 'w', 50);
      exit(write(p[1], fill, 4022) == 4022 && write(p[1], buf, 50) == 50 ? 0 : 1);
    }
    close(p[1]);
    check_asleep(w, "a writer to a full pipe");
    int r = read(p[0], fill, 5);                // wakes it with 15 bytes of room
    check(r == 5, "read 5 of the pipe's bytes: %d", r);
    check_asleep(w, "a writer woken with too little room");
    r = read(p[0], fill, sizeof fill);
    check(r == 4017, "a 50-byte write into 15 bytes of room: %d of its bytes went in early",
          r - 4017);
    int got = 0;
    while (got < 50 && (r = read(p[0], buf + got, 50 - got)) > 0)
      got += r;
    check(got == 50 && buf[0] == 'w' && buf[49] == 'w', "the 50 bytes after the room was made");
    waitenv(w, &status);
    check(status == 0, "writer status %d", status);
    close(p[0]);

    check(pipe(p) == 0, "pipe");
    envid_t rd = fork();
    if (rd == 0) {
      close(p[1]);
      exit(read(p[0], buf, sizeof buf) == 1 && buf[0] == 'q' ? 0 : 1);
    }
    close(p[0]);
    check_asleep(rd, "a reader of an empty pipe");
    write(p[1], "q", 1);
    waitenv(rd, &status);
    check(status == 0, "reader status %d", status);
    close(p[1]);
  }

  // 1 MiB through a pipe, checked
  check(pipe(p) == 0, "pipe");
  envid_t c = fork();
  if (c == 0) {
    close(p[0]);
    for (int i = 0; i < 2048; i++) {
      for (int j = 0; j < 512; j++)
        buf[j] = (i * 7 + j) & 0xff;
      if (write(p[1], buf, 512) != 512)
        exit(1);
    }
    exit(0);
  }
  close(p[1]);
  uint64 got = 0;
  int n, bad = 0;
  while ((n = read(p[0], buf, sizeof buf)) > 0) {
    for (int j = 0; j < n; j++)
      bad += (uchar)buf[j] != (uchar)(((got + j) / 512 * 7 + (got + j) % 512) & 0xff);
    got += n;
  }
  check(got == 1 << 20 && bad == 0, "1 MiB: got %lu bytes, %d wrong", got, bad);
  check(n == 0, "no EOF after the writer exited (read returned %d)", n);
  waitenv(c, &status);
  check(status == 0, "writer status %d", status);
  close(p[0]);

  // two writers on one pipe (forked children on any hart): nothing lost,
  // and each 50-byte write arrives whole
  check(pipe(p) == 0, "pipe for two writers");
  for (int k = 0; k < 2; k++)
    if (fork() == 0) {
      close(p[0]);
      memset(buf, 'A' + k, 50);
      for (int i = 0; i < 4000; i++)
        if (write(p[1], buf, 50) != 50)
          exit(1);
      exit(0);
    }
  close(p[1]);
  long count[2] = { 0, 0 }, torn = 0, run = 0;
  char last = 0;
  while ((n = read(p[0], buf, sizeof buf)) > 0)
    for (int j = 0; j < n; j++) {
      if (buf[j] != 'A' && buf[j] != 'B')
        torn++;
      else
        count[buf[j] - 'A']++;
      if (buf[j] != last && last && run % 50)
        torn++;
      run = buf[j] == last ? run + 1 : 1;
      last = buf[j];
    }
  while (wait(0) >= 0)
    ;
  check(count[0] == 200000 && count[1] == 200000 && torn == 0,
        "two writers: %ld A, %ld B (200000 each), %ld torn", count[0], count[1], torn);
  close(p[0]);

  // Three writers of whole rings (PIPEBUF bytes a write) and two readers
  // of big pieces, all at once: copies into and out of the ring are long
  // enough for a time slice to end inside one, so a copy made without the
  // lock is overrun by another.  Every byte of write j of writer w is
  // value(w, j); the readers count what they see of each value (the
  // child reader sends its counts to the parent through a second pipe).
  {
    enum { WRITES = 1000 };
    static char big[4032];
    static uint32 seen[256], theirs[256];
    int res[2];
    check(pipe(p) == 0 && pipe(res) == 0, "pipes for three writers and two readers");
    for (int w = 0; w < 3; w++)
      if (fork() == 0) {
        close(p[0]);
        close(res[0]);
        close(res[1]);
        for (int j = 0; j < WRITES; j++) {
          memset(big, 1 + (w * WRITES + j) % 255, sizeof big);
          if (write(p[1], big, sizeof big) != (int)sizeof big)
            exit(1);
        }
        exit(0);
      }
    close(p[1]);
    envid_t rd = fork();
    if (rd == 0)
      close(res[0]);
    else
      close(res[1]);
    while ((n = read(p[0], big, sizeof big)) > 0)
      for (int j = 0; j < n; j += 8) {          // (cheaply: the readers must not
        uint64 word;                            // be what the time goes on)
        memcpy(&word, big + j, 8);
        if (j + 8 <= n && word == (uchar)big[j] * 0x0101010101010101UL)
          seen[(uchar)big[j]] += 8;
        else
          for (int b = j; b < n && b < j + 8; b++)
            seen[(uchar)big[b]]++;
      }
    if (rd == 0)
      exit(write(res[1], seen, sizeof seen) == (int)sizeof seen ? 0 : 1);
    int got = 0, r;
    while (got < (int)sizeof theirs && (r = read(res[0], (char *)theirs + got, sizeof theirs - got)) > 0)
      got += r;
    while (wait(&status) >= 0)
      check(status == 0, "a writer or the other reader failed: status %d", status);
    int wrong = 0;
    for (int v = 0; v < 256; v++) {
      uint32 want = 0;
      for (int k = 0; k < 3 * WRITES; k++)
        want += v == 1 + k % 255 ? sizeof big : 0;
      wrong += seen[v] + theirs[v] != want;
    }
    check(got == (int)sizeof theirs && wrong == 0,
          "three writers and two readers: %d byte values seen a wrong number of times", wrong);
    close(p[0]);
    close(res[0]);
  }

  // EOF only when every writer is gone: the parent keeps a write end a while
  check(pipe(p) == 0, "pipe 2");
  c = fork();
  if (c == 0) {
    close(p[1]);
    int r = read(p[0], buf, 1);               // must wait for the parent's byte
    exit(r == 1 && buf[0] == 'z' ? (read(p[0], buf, 1) == 0 ? 0 : 2) : 1);
  }
  close(p[0]);
  for (int i = 0; i < 20; i++)
    sys_yield(0);
  write(p[1], "z", 1);
  close(p[1]);
  waitenv(c, &status);
  check(status == 0, "EOF too early or never (status %d)", status);

  // broken pipe: the only reader exits
  check(pipe(p) == 0, "pipe 3");
  c = fork();
  if (c == 0)
    exit(0);                                  // holds the read end, then drops it
  close(p[0]);
  waitenv(c, 0);
  expect_err(write(p[1], "x", 1), E_PIPE, "write with no reader left");
  close(p[1]);

  // dup and dup2 share the open file; closed descriptors are refused
  check(pipe(p) == 0, "pipe 4");
  int d = dup(p[1]);
  check(d >= 0 && d != p[1], "dup: %d", d);
  check(dup2(p[1], 20) == 20, "dup2");
  write(d, "a", 1);
  write(20, "b", 1);
  close(p[1]);
  close(d);
  check(read(p[0], buf, 2) == 2 && buf[0] == 'a' && buf[1] == 'b', "data through dup'ed ends");
  close(20);
  check(read(p[0], buf, 1) == 0, "EOF after closing every dup");
  close(p[0]);
  expect_err(read(p[0], buf, 1), E_BADF, "read a closed descriptor");
  expect_err(write(-1, buf, 1), E_BADF, "write descriptor -1");
  expect_err(write(NFD, buf, 1), E_BADF, "write descriptor NFD");
  expect_err(close(31), E_BADF, "close a descriptor never opened");

  // stdout is shared across fork: a child's write shows up on the console
  c = fork();
  if (c == 0) {
    fprintf(1, "pipetest: child writes through the inherited stdout\n");
    exit(0);
  }
  waitenv(c, 0);
  return check_report();
}
