/* A self-contained HTTP probe of a running server, for container
 * HEALTHCHECKs where no curl is installed. */
#ifndef LEAKYRELU_HEALTHCHECK_H
#define LEAKYRELU_HEALTHCHECK_H

#include <stdio.h>

#include "config.h"

/* Sends GET /healthz to cfg's port on cfg's address (the loopback address
 * when bound to 0.0.0.0 or ::) with 2-second timeouts. Returns 0 when the
 * server answers 200, else 1 with a message on err. */
int healthcheck_run(const config *cfg, FILE *err);

#endif
