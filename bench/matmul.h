// The matrix-multiply benchmark kernel, shared by user/bench.c (run as an
// env) and bench/baremetal.c (the same code with no OS at all), so the two
// instruction counts compare like with like.
#define MM_N 150

static void __attribute__((noinline)) matmul(const int *a, const int *b, int *c)
{
  for (int i = 0; i < MM_N; i++)
    for (int j = 0; j < MM_N; j++) {
      int s = 0;
      for (int k = 0; k < MM_N; k++)
        s += a[i * MM_N + k] * b[k * MM_N + j];
      c[i * MM_N + j] = s;
    }
}

static void matmul_fill(int *a, int *b)
{
  for (int i = 0; i < MM_N * MM_N; i++) {
    a[i] = i % 7 + 1;
    b[i] = i % 5 + 1;
  }
}

static long matmul_sum(const int *c)
{
  long s = 0;
  for (int i = 0; i < MM_N * MM_N; i++)
    s += c[i] * (long)(i % 3 + 1);
  return s;
}
