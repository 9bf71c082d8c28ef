/* Request bodies: what a body may be (an object of known members, or a
 * bare array or number), which error wins, and request_parse. The JSON
 * grammar is request_scan.c's, arrays request_array.c's, reading as the
 * body arrives request_reader.c's. */
#include "request.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "request_internal.h"

/* Bytes of a member name kept for error messages. */
#define NAME_MAX_BYTES 64

typedef enum member_kind {
    MEMBER_TENSOR, /* a number or an array of numbers: a tensor */
    MEMBER_DTYPE   /* a string naming a tensor_dtype */
} member_kind;

/* The request object's members, in the order error messages list them.
 * Adding a member is adding a row (and its field in request.h). */
static const struct member {
    const char *name;
    member_kind kind;
    unsigned kinds;   /* the request kinds that take it, bits of request_kind */
    size_t value;     /* offsetof its tensor or dtype in request */
    ptrdiff_t has;    /* offsetof its int "given" flag in request, or -1 */
    lr_err missing;   /* when it is required: the error if absent, else OK */
    lr_err bad;       /* the error for anything wrong inside its value; OK:
                         the tensor's own (not_a_number, ragged_array...) */
} members[] = {
    {"x", MEMBER_TENSOR, 1u << REQUEST_FORWARD | 1u << REQUEST_GRADIENT, offsetof(request, x),
     -1, LR_ERR_MISSING_X, LR_ERR_OK},
    {"slope", MEMBER_TENSOR, 1u << REQUEST_FORWARD | 1u << REQUEST_GRADIENT,
     offsetof(request, slopes), offsetof(request, has_slope), LR_ERR_OK, LR_ERR_BAD_SLOPE},
    {"grad_output", MEMBER_TENSOR, 1u << REQUEST_GRADIENT, offsetof(request, grad_output),
     offsetof(request, has_grad_output), LR_ERR_OK, LR_ERR_OK},
    {"dtype", MEMBER_DTYPE, 1u << REQUEST_FORWARD | 1u << REQUEST_GRADIENT,
     offsetof(request, dtype), offsetof(request, has_dtype), LR_ERR_OK, LR_ERR_BAD_DTYPE},
};
#define MEMBERS (sizeof members / sizeof members[0])

/* The row of the member called name that kind takes, or -1. */
static int member_find(const char *name, size_t len, int trunc, request_kind kind)
{
    for (size_t i = 0; i < MEMBERS && !trunc; i++)
        if ((members[i].kinds >> kind & 1) && strlen(members[i].name) == len &&
            memcmp(members[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static tensor *member_tensor(request *req, int m)
{
    return (tensor *)(void *)((char *)req + members[m].value);
}

/* The value of a dtype member: "float64" or "float32". */
static int dtype_value(request__parser *ps, const struct member *mb, tensor_dtype *out)
{
    char text[16];
    size_t len;
    int trunc;
    if (!request__at(ps, '"')) {
        if (request__at_value(ps))
            request__record(ps, mb->bad, mb->name,
                            "%s must be \"float64\" or \"float32\", got %s", mb->name,
                            request__kind_of(ps));
        return request__skip_value(ps, 1);
    }
    if (request__string(ps, text, sizeof text, &len, &trunc) != 0)
        return -1;
    for (int d = TENSOR_F64; d <= TENSOR_F32; d++) {
        const char *name = tensor_dtype_name((tensor_dtype)d);
        if (!trunc && len == strlen(name) && memcmp(text, name, len) == 0) {
            *out = (tensor_dtype)d;
            return 0;
        }
    }
    request__record(ps, mb->bad, mb->name, "%s must be \"float64\" or \"float32\", not \"%.15s%s\"",
                    mb->name, text, trunc ? "..." : "");
    return 0;
}

/* Reads the value of member m (seen for the first time) at ps->p. */
static int member_value(request__parser *ps, int m)
{
    const struct member *mb = &members[m];
    char *base = (char *)ps->req;
    if (mb->has >= 0)
        *(int *)(void *)(base + mb->has) = 1;
    if (mb->kind == MEMBER_TENSOR)
        return request__tensor(ps, member_tensor(ps->req, m), mb->name, 1, NULL);
    return dtype_value(ps, mb, (tensor_dtype *)(void *)(base + mb->value));
}

void request__snapshot_restore(request__parser *ps, const request__snapshot *s)
{
    request live = *ps->req;
    *ps->req = s->req;
    ps->req->account = live.account;
    for (int m = 0; m < (int)MEMBERS; m++) { /* the storage stays, and its account */
        if (members[m].kind == MEMBER_TENSOR) {
            tensor *t = member_tensor(ps->req, m), *l = member_tensor(&live, m);
            t->data = l->data;
            t->cap = l->cap;
            t->account = l->account;
            t->fixes = l->fixes; /* the fixes noted since are dropped */
            t->fixes_cap = l->fixes_cap;
        }
    }
    *ps->err = s->err;
    ps->obj = s->obj;
    ps->has_semantic = s->has_semantic;
}

/* Appends `"name"` to the unknown-member list in buf (kept short). */
static void list_unknown(char *buf, size_t cap, int *count, const char *name, int trunc)
{
    size_t n = strlen(buf);
    if (++*count > 8) {
        if (*count == 9 && n + 6 < cap)
            memcpy(buf + n, ", ...", 6);
        return;
    }
    snprintf(buf + n, cap - n, "%s\"%s%s\"", *count > 1 ? ", " : "", name,
             trunc ? "..." : "");
}

/* The members kind takes, listed: "x", "slope". */
static void list_expected(request_kind kind, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < MEMBERS && n < cap; i++)
        if (members[i].kinds >> kind & 1)
            n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\"", n ? ", " : "", members[i].name);
}

/* Unknown members first, all together; then the required ones absent. */
static void object_end(request__parser *ps, request_kind kind)
{
    request__object *os = &ps->obj;
    if (os->n_unknown) {
        char expected[128];
        list_expected(kind, expected, sizeof expected);
        ps->has_semantic = 0; /* unknown members are reported first */
        /* PyTorch's name for the slope is the likeliest unknown member. */
        int torch = strstr(os->unknown, "\"negative_slope\"") != NULL;
        request__record(ps, LR_ERR_UNKNOWN_MEMBER, NULL, "unknown member%s %s; expected %s%s",
                        os->n_unknown > 1 ? "s" : "", os->unknown, expected,
                        torch ? " (PyTorch's negative_slope is \"slope\" here)" : "");
    }
    for (size_t i = 0; i < MEMBERS; i++)
        if (members[i].missing != LR_ERR_OK && (members[i].kinds >> kind & 1) &&
            !(os->seen >> i & 1))
            request__record(ps, members[i].missing, NULL,
                            "the request object has no \"%s\" member", members[i].name);
}

/* The request object at ps->p ('{'), or, resuming, from a checkpoint
 * inside one of its values. */
static int object(request__parser *ps, request_kind kind, const request__checkpoint *resume)
{
    request__object *os = &ps->obj;
    char name[NAME_MAX_BYTES + 1];
    int rc;
    if (resume) { /* ps->obj is restored; an array checkpoint is in a tensor member's */
        assert(resume->kind == REQUEST__RESUME_SKIP ||
               (os->member >= 0 && members[os->member].kind == MEMBER_TENSOR));
        rc = resume->kind == REQUEST__RESUME_SKIP
                 ? request__skip(ps, &resume->skip)
                 : request__tensor(ps, member_tensor(ps->req, os->member),
                                   members[os->member].name, 1, &resume->array);
        goto value_read;
    }
    *os = (request__object){.member = -1};
    ps->p++; /* '{' */
    request__skip_ws(ps);
    if (request__at(ps, '}')) {
        ps->p++;
        goto end;
    }
    for (;;) {
        size_t len;
        int trunc;
        if (request__member_name(ps, name, sizeof name, &len, &trunc) != 0)
            return -1;
        int m = member_find(name, len, trunc, kind);
        os->member = -1;
        if (m >= 0 && (os->seen >> m & 1)) {
            request__record(ps, LR_ERR_DUPLICATE_MEMBER, NULL, "member \"%s\" appears twice",
                            name);
            rc = request__skip_value(ps, 1);
        } else if (m >= 0) {
            os->seen |= 1u << m;
            os->member = m;
            rc = member_value(ps, m);
        } else {
            list_unknown(os->unknown, sizeof os->unknown, &os->n_unknown, name, trunc);
            rc = request__skip_value(ps, 1);
        }
    value_read: /* a resumed read joins here, inside the loop */
        if (rc != 0)
            return -1;
        if (!request__comma(ps))
            break;
    }
    if (!request__at(ps, '}'))
        return request__unexpected(ps, "',' or '}'", 0);
    ps->p++;
end:
    object_end(ps, kind);
    return 0;
}

static void shape_text(const tensor *t, char *buf, size_t len)
{
    int n = snprintf(buf, len, "[");
    for (int i = 0; i < t->ndim && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%zu", i ? ", " : "", t->shape[i]);
    if (n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "]");
}

void request_init(request *req)
{
    memset(req, 0, sizeof *req);
    tensor_init(&req->x);
    tensor_init(&req->grad_output);
    tensor_init(&req->slopes);
}

void request_free(request *req)
{
    struct budget_account *a = req->account;
    tensor_free(&req->x);
    tensor_free(&req->grad_output);
    tensor_free(&req->slopes);
    request_init(req);
    request_set_account(req, a);
}

void request_set_account(request *req, struct budget_account *a)
{
    req->account = a;
    req->x.account = a;
    req->grad_output.account = a;
    req->slopes.account = a;
}

/* The body's first value, from the start: its form decides what it is. */
static int body_value(request__parser *ps, request_kind kind)
{
    if (request__at(ps, '{')) {
        ps->req->is_object = 1;
        return object(ps, kind, NULL);
    }
    if (request__at(ps, '[') || request__at_number(ps))
        return request__tensor(ps, &ps->req->x, "x", 0, NULL);
    if (request__at_value(ps)) {
        request__record(ps, LR_ERR_BODY_TYPE, NULL,
                        "the body must be an object, an array or a number, not %s",
                        request__kind_of(ps));
        return request__skip_value(ps, 0);
    }
    return request__unexpected(ps, "a JSON value", 1);
}

/* What is checked once the whole body is read without a request error. */
static void body_end(request__parser *ps)
{
    const request *req = ps->req;
    if (req->slopes.ndim > 1)
        request__record(ps, LR_ERR_BAD_SLOPE, "slope",
                        "slope must be a number or a flat array of numbers, not %d-dimensional",
                        req->slopes.ndim);
    else if (req->has_slope && req->slopes.count == 0)
        request__record(ps, LR_ERR_BAD_SLOPE, "slope", "slope must not be an empty array");
    if (req->has_grad_output && !tensor_same_shape(&req->x, &req->grad_output)) {
        char xs[128], gs[128];
        shape_text(&req->x, xs, sizeof xs);
        shape_text(&req->grad_output, gs, sizeof gs);
        request__record(ps, LR_ERR_SHAPE_MISMATCH, NULL,
                        "grad_output has shape %s but x has shape %s", gs, xs);
    }
}

/* A request error inside the value of a member that has its own error
 * code (slope: invalid_slope) takes that code; the message and path stay. */
static void own_error(lr_error *err)
{
    if (lr_err_status(err->code) != 422)
        return;
    for (size_t i = 0; i < MEMBERS; i++) {
        size_t n = strlen(members[i].name);
        if (members[i].bad != LR_ERR_OK && strncmp(err->path, members[i].name, n) == 0 &&
            (err->path[n] == '\0' || err->path[n] == '['))
            err->code = members[i].bad;
    }
}

int request__body(request__parser *ps, request_kind kind, const request__checkpoint *resume)
{
    int rc;
    if (resume) {
        request__snapshot_restore(ps, &resume->snap);
        rc = kind == REQUEST_OIP                     ? request__oip_body(ps, resume)
             : ps->req->is_object                   ? object(ps, kind, resume)
             : resume->kind == REQUEST__RESUME_SKIP ? request__skip(ps, &resume->skip)
                                                     : request__tensor(ps, &ps->req->x, "x", 0,
                                                                       &resume->array);
    } else { /* from the start (again, after a starved partial read) */
        static const request__snapshot empty = {.err = {.offset = LR_NO_OFFSET},
                                                 .obj = {.member = -1}};
        request__snapshot_restore(ps, &empty);
        request__skip_ws(ps);
        if (ps->p == ps->end) {
            if (ps->partial)
                return request__starve(ps);
            lr_error_set(ps->err, LR_ERR_EMPTY_BODY, NULL);
            return 0;
        }
        rc = kind == REQUEST_OIP ? request__oip_body(ps, NULL) : body_value(ps, kind);
    }
    if (rc != 0)
        return ps->starved ? -1 : 0;
    request__skip_ws(ps);
    if (ps->p == ps->end && ps->partial) /* whatever follows decides */
        return request__starve(ps);
    if (ps->p != ps->end)
        request__fail(ps, LR_ERR_JSON_TRAILING, ps->p, "unexpected data after the JSON value");
    else if (!ps->has_semantic && kind == REQUEST_OIP)
        request__oip_end(ps);
    else if (!ps->has_semantic)
        body_end(ps);
    if (kind != REQUEST_OIP)
        own_error(ps->err);
    return 0;
}

lr_err request_parse(const char *body, size_t len, request_kind kind,
                     request *req, lr_error *err)
{
    return request_parse_on(body, len, kind, NULL, req, err);
}

lr_err request_parse_on(const char *body, size_t len, request_kind kind, pool *workers,
                        request *req, lr_error *err)
{
    request__parser ps = {.start = body, .p = body, .end = body + len, .err = err,
                          .workers = workers, .req = req};
    request__body(&ps, kind, NULL);
    return err->code;
}
