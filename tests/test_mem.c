/* Tests of src/mem.c's growth rule: doubling up to MEM_GROW_STEP, then
 * whole steps, never more than a step unused past it. */
#include <stdint.h>

#include "../src/mem.h"
#include "tap.h"
#include "tests.h"

void test_mem_grow(void)
{
    const size_t step = MEM_GROW_STEP;
    ASSERT_EQ(mem_grow(0, 1, 4096), 4096);
    ASSERT_EQ(mem_grow(0, 5000, 4096), 8192);
    ASSERT_EQ(mem_grow(4096, 4097, 4096), 8192);
    ASSERT_EQ(mem_grow(step / 2, step / 2 + 1, 512), step);
    ASSERT_EQ(mem_grow(step / 2, step + 1, 512), 2 * step);
    ASSERT_EQ(mem_grow(step, step + 1, 512), 2 * step);
    ASSERT_EQ(mem_grow(3 * step, 3 * step + 1, 512), 4 * step);
    ASSERT_EQ(mem_grow(step, 7 * step - 5, 512), 7 * step);
    ASSERT_EQ(mem_grow(step, SIZE_MAX - 10, 512), 0);
    for (size_t need = 1; need < 40 * step; need = need * 3 + 7) {
        size_t got = mem_grow(0, need, 4096);
        ASSERT(got >= need);
        if (need > step)
            ASSERT(got - need < step);
    }
}
