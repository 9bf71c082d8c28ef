/* GET /openapi.json's document: src/openapi.json, the OpenAPI 3.1
 * description of every endpoint (written by tools/gen_openapi.py),
 * embedded in the binary by the Makefile. */
#ifndef LEAKYRELU_OPENAPI_H
#define LEAKYRELU_OPENAPI_H

#include <stddef.h>

extern const char openapi_json[];
extern const size_t openapi_json_len;

#endif
