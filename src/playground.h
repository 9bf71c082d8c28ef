/* GET /'s page: src/playground.html, the playground (plain HTML, CSS and
 * JavaScript, no external resources), embedded in the binary by the
 * Makefile. */
#ifndef LEAKYRELU_PLAYGROUND_H
#define LEAKYRELU_PLAYGROUND_H

#include <stddef.h>

extern const char playground_html[];
extern const size_t playground_html_len;

#endif
