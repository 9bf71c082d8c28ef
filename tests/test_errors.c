/* Tests of the error table (src/errors.h): every error has a status, a
 * message and a code of its own. */
#include <string.h>

#include "../src/errors.h"
#include "tap.h"
#include "tests.h"

void test_errors_table(void)
{
    for (int i = 1; i < LR_ERR__COUNT; i++) {
        int st = lr_err_status((lr_err)i);
        ASSERT(st >= 400 && st <= 599);
        ASSERT(strlen(lr_err_message((lr_err)i)) > 0);
        for (int j = 1; j < i; j++)
            if (strcmp(lr_err_code((lr_err)i), lr_err_code((lr_err)j)) == 0)
                tap_fail(__FILE__, __LINE__, "code %s used twice", lr_err_code((lr_err)i));
    }
    ASSERT_EQ(lr_err_status(LR_ERR_OK), 200);
}
