/* Lookups into the error table of errors.h. */
#include "errors.h"

static const struct {
    int status;
    const char *code;
    const char *message;
} table[] = {
#define LR_ERR_ROW(name, status, code, msg) {status, code, msg},
    LR_ERRORS(LR_ERR_ROW)
#undef LR_ERR_ROW
};

int lr_err_status(lr_err e) { return table[e].status; }
const char *lr_err_code(lr_err e) { return table[e].code; }
const char *lr_err_message(lr_err e) { return table[e].message; }

void lr_error_clear(lr_error *err)
{
    err->code = LR_ERR_OK;
    err->offset = LR_NO_OFFSET;
    err->path[0] = '\0';
    err->detail[0] = '\0';
}
