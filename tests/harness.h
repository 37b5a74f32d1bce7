/* harness.h - the test harness: real assertions with tolerances.
 *
 * A test file defines `static void test_x(void)` functions and a main that
 * calls RUN(test_x) for each, then returns FINISH().  Every failed check
 * prints where, what was expected and what was found.  The summary line
 * "RESULT <passed> <failed>" is read by tests/run.sh.
 */
#ifndef GS_TEST_HARNESS_H
#define GS_TEST_HARNESS_H
#include <math.h>
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_cur_failed;
static const char *t_cur_name;

#define CHECK(cond, ...) do { \
    if (!(cond)) { \
        t_cur_failed++; \
        fprintf(stderr, "  %s:%d: %s: check failed: %s: ", __FILE__, __LINE__, t_cur_name, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
    } } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_NEAR(a, b, atol, rtol) do { \
    double t_a = (a), t_b = (b); \
    CHECK(fabs(t_a - t_b) <= (atol) + (rtol) * fabs(t_b) && !isnan(t_a), \
          "%s = %.9g, expected %.9g (atol %g rtol %g)", #a, t_a, t_b, (double)(atol), (double)(rtol)); \
    } while (0)

#define CHECK_EQ_INT(a, b) do { long long t_a = (a), t_b = (b); \
    CHECK(t_a == t_b, "%s = %lld, expected %lld", #a, t_a, t_b); } while (0)

#define RUN(fn) do { \
    t_cur_name = #fn; t_cur_failed = 0; fn(); \
    if (t_cur_failed) { t_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
    else { t_passed++; fprintf(stderr, "ok   %s\n", #fn); } \
    } while (0)

#define FINISH() (printf("RESULT %d %d\n", t_passed, t_failed), t_failed ? 1 : 0)

#endif
