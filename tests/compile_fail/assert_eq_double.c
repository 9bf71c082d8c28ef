/* Must not compile: ASSERT_EQ refuses a double (cast to long long, 0.25
 * would equal 0). `make test` fails if this file compiles. */
#include "../tap.h"

void assert_eq_double(double slope);

void assert_eq_double(double slope) { ASSERT_EQ(slope, 0.25); }
