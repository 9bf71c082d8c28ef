/* The service's version: the Makefile's VERSION, passed as
 * -DLEAKYRELU_VERSION. */
#ifndef LEAKYRELU_VERSION_H
#define LEAKYRELU_VERSION_H

#ifndef LEAKYRELU_VERSION
#define LEAKYRELU_VERSION "0.0.0-dev"
#endif

#endif
