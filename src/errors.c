/* Lookups into the error table of errors.h. */
#include "errors.h"

#include <stdio.h>

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

lr_err lr_error_vset(lr_error *err, lr_err code, const char *fmt, va_list ap)
{
    lr_error_clear(err);
    err->code = code;
    if (fmt)
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    return code;
}

lr_err lr_error_set(lr_error *err, lr_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}
