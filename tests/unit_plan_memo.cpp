// Unit test of the host-side plan memo (src/core/plan_memo.h): plans are computed once per key; the
// key covers the problem, the direction, the flags, the device and the environment; a failed
// computation stores nothing; other threads find what one thread stored.
#include "core/plan_memo.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

using lamina::ConvProblem;
using lamina::PlanKey;
using lamina::PlanMemo;

namespace {

ConvProblem problem(int64_t n) {
  ConvProblem p;
  p.N = n, p.C = 64, p.K = 128;
  p.in[1] = p.in[2] = 28, p.out[1] = p.out[2] = 28, p.filt[1] = p.filt[2] = 3, p.pad[1] = p.pad[2] = 1;
  for (lamina::TensorDesc *t : {&p.x, &p.y}) {
    t->nbDims = 4;
    const int64_t c = t == &p.x ? p.C : p.K;
    const int64_t dims[4] = {n, c, 28, 28}, strides[4] = {c * 28 * 28, 1, 28 * c, c};
    for (int i = 0; i < 4; ++i)
      t->dims[i] = dims[i], t->strides[i] = strides[i];
  }
  return p;
}

int get(PlanMemo<int> &memo, const ConvProblem &p, int &computed, int dir = 0) {
  return memo.get(PlanKey(p, dir, 0, 0), [&] { return ++computed; });
}

TEST(PlanMemo, ComputesOncePerKey) {
  PlanMemo<int> memo;
  int computed = 0;
  EXPECT_EQ(get(memo, problem(1), computed), 1);
  EXPECT_EQ(get(memo, problem(1), computed), 1);
  EXPECT_EQ(get(memo, problem(8), computed), 2);    // another batch
  EXPECT_EQ(get(memo, problem(1), computed, 1), 3); // another direction
  EXPECT_EQ(get(memo, problem(1), computed), 1);
  EXPECT_EQ(get(memo, problem(8), computed), 2);
  EXPECT_EQ(computed, 3);
  ConvProblem strided = problem(1);
  strided.x.strides[0] += 8; // the same dims, other strides
  EXPECT_EQ(get(memo, strided, computed), 4);
}

TEST(PlanMemo, EnvironmentIsPartOfTheKey) {
  PlanMemo<int> memo;
  int computed = 0;
  unsetenv("LAMINA_PLAN_MEMO_TEST");
  EXPECT_EQ(get(memo, problem(2), computed), 1);
  setenv("LAMINA_PLAN_MEMO_TEST", "A", 1);
  EXPECT_EQ(get(memo, problem(2), computed), 2); // a planner may read it: planned again
  setenv("LAMINA_PLAN_MEMO_TEST", "B", 1);
  EXPECT_EQ(get(memo, problem(2), computed), 3);
  unsetenv("LAMINA_PLAN_MEMO_TEST");
  // Back to the first environment: its plan again, or a fresh one (the entries moved), never A's or B's.
  const int back = get(memo, problem(2), computed);
  EXPECT_TRUE(back == 1 || back == 4) << back;
}

TEST(PlanMemo, FailureStoresNothing) {
  PlanMemo<int> memo;
  const PlanKey key(problem(3), 0, 0, 0);
  EXPECT_THROW(memo.get(key, []() -> int { throw std::runtime_error("no plan"); }), std::runtime_error);
  EXPECT_EQ(memo.get(key, [] { return 7; }), 7);
  EXPECT_EQ(memo.get(key, [] { return 8; }), 7);
}

TEST(PlanMemo, OtherThreadsFindStoredPlans) {
  PlanMemo<int> memo;
  int computed = 0;
  EXPECT_EQ(get(memo, problem(4), computed), 1);
  int seen = 0, computedThere = 0;
  std::thread t([&] { seen = memo.get(PlanKey(problem(4), 0, 0, 0), [&] { return ++computedThere + 100; }); });
  t.join();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(computedThere, 0);
}

TEST(PlanMemo, SlotsOfOneThreadKeepMemosApart) {
  PlanMemo<int> a, b; // the same value type: the per-thread slots are shared by type
  int ca = 0, cb = 0;
  EXPECT_EQ(get(a, problem(5), ca), 1);
  EXPECT_EQ(b.get(PlanKey(problem(5), 0, 0, 0), [&] { return 10 + ++cb; }), 11);
  EXPECT_EQ(get(a, problem(5), ca), 1);
  EXPECT_EQ(b.get(PlanKey(problem(5), 0, 0, 0), [&] { return 10 + ++cb; }), 11);
  EXPECT_EQ(ca, 1);
  EXPECT_EQ(cb, 1);
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
