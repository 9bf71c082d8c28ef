/* Inference on leaky_relu and leaky_relu_grad, whatever the transport:
 * the checks the Open Inference Protocol's semantics need, the outputs
 * asked for, and the kernel (compute.c). */
#include "infer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

static const char *const model_names[] = {[INFER_MODEL_FORWARD] = "leaky_relu",
                                          [INFER_MODEL_GRADIENT] = "leaky_relu_grad"};

const char *infer_model_name(infer_model m) { return model_names[m]; }

int infer_model_find(const char *name, size_t len, infer_model *m)
{
    for (int i = 0; i < 2; i++) {
        if (len == strlen(model_names[i]) && memcmp(name, model_names[i], len) == 0) {
            *m = (infer_model)i;
            return 0;
        }
    }
    return -1;
}

lr_err infer_model_named(const char *name, const char *version, infer_model *m, lr_error *err)
{
    if (infer_model_find(name, strlen(name), m) != 0)
        return lr_error_set(err, LR_ERR_NOT_FOUND, "unknown model \"%s\"; the models are "
                            "\"leaky_relu\" and \"leaky_relu_grad\"", name);
    if (version && strcmp(version, INFER_MODEL_VERSION) != 0)
        return lr_error_set(err, LR_ERR_NOT_FOUND, "model \"%s\" has no version \"%s\"; its one "
                            "version is \"" INFER_MODEL_VERSION "\"", name, version);
    return LR_ERR_OK;
}

/* The index of the input named name, or -1. */
static int input_named(const infer_request *req, const char *name)
{
    for (size_t i = 0; i < req->ninputs; i++)
        if (strcmp(req->in[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Inputs x and grad_output, once each, of one datatype and shape, their
 * data as many numbers as their shape says. */
static lr_err check_inputs(const infer_request *req, lr_error *err)
{
    if (req->ninputs == 0 || req->ninputs > INFER_INPUTS)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "the request has %zu inputs; give \"x\"%s",
                            req->ninputs, req->model == INFER_MODEL_GRADIENT
                                              ? " and, for the backward pass, \"grad_output\""
                                              : "");
    for (size_t i = 0; i < req->ninputs; i++) {
        const infer_input *in = &req->in[i];
        if (strcmp(in->name, "x") != 0 && strcmp(in->name, "grad_output") != 0) {
            lr_error_set(err, LR_ERR_BAD_INPUT, "unknown input \"%.64s\"; the inputs are \"x\" "
                         "and, for leaky_relu_grad, \"grad_output\"", in->name);
            snprintf(err->path, sizeof err->path, "inputs[%zu].name", i);
            return err->code;
        }
        size_t n = 0;
        int overflow = tensor_shape_count(in->t->shape, in->t->ndim, &n) != 0;
        if (overflow || in->t->count != n) {
            if (overflow)
                lr_error_set(err, LR_ERR_BAD_SHAPE, "the shape has more elements than memory "
                             "can hold");
            else
                lr_error_set(err, LR_ERR_SHAPE_MISMATCH, "the data has %zu numbers, but the "
                             "shape makes %zu", in->t->count, n);
            snprintf(err->path, sizeof err->path, "inputs[%zu]", i);
            return err->code;
        }
    }
    if (req->ninputs == 2 && strcmp(req->in[0].name, req->in[1].name) == 0)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "input \"%s\" is given twice",
                            req->in[0].name);
    int x = input_named(req, "x"), g = input_named(req, "grad_output");
    if (x < 0)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "the request has no input \"x\"");
    if (g >= 0 && req->in[g].dtype != req->in[x].dtype)
        return lr_error_set(err, LR_ERR_BAD_DTYPE, "grad_output's datatype must be x's");
    if (g >= 0 && !tensor_same_shape(req->in[x].t, req->in[g].t))
        return lr_error_set(err, LR_ERR_SHAPE_MISMATCH, "grad_output must have x's shape");
    if (g >= 0 && req->model == INFER_MODEL_FORWARD)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "leaky_relu takes one input, \"x\"; "
                            "grad_output is leaky_relu_grad's");
    return LR_ERR_OK;
}

/* The outputs asked for, in the request's order (all the model has when
 * none are named) into res. */
static lr_err pick_outputs(const infer_request *req, int list, infer_result *res,
                           lr_error *err)
{
    int forward = req->model == INFER_MODEL_FORWARD;
    const char *main = forward ? "y" : "grad";
    int has_slope = !forward && list;
    if (req->noutputs == 0) {
        res->out[0] = (infer_output){main, 0, req->text};
        res->out[1] = (infer_output){"grad_slope", 1, req->text};
        res->noutputs = has_slope ? 2 : 1;
        return LR_ERR_OK;
    }
    for (size_t i = 0; i < req->noutputs && i < INFER_OUTPUTS; i++) {
        const char *name = req->outputs[i].name;
        int slope = strcmp(name, "grad_slope") == 0;
        if (strcmp(name, main) != 0 && !(slope && has_slope)) {
            lr_error_set(err, LR_ERR_BAD_OUTPUT, "unknown output \"%.64s\"; %s's outputs are "
                         "\"%s\"%s", name, model_names[req->model], main,
                         forward ? ""
                         : list  ? " and \"grad_slope\""
                                 : " (and \"grad_slope\" when negative_slope is a list)");
            snprintf(err->path, sizeof err->path, "outputs[%zu].name", i);
            return err->code;
        }
        for (size_t k = 0; k < res->noutputs; k++)
            if (strcmp(res->out[k].name, name) == 0)
                return lr_error_set(err, LR_ERR_BAD_OUTPUT, "output \"%.64s\" is asked for "
                                    "twice", name);
        res->out[res->noutputs++] =
            (infer_output){slope ? "grad_slope" : main, slope, req->outputs[i].text};
    }
    return LR_ERR_OK;
}

/* Computes the outputs res names (checked). */
static lr_err run(const infer_request *req, const compute_slope *cs, infer_result *res,
                  struct pool *workers, lr_error *err)
{
    const infer_input *x = &req->in[input_named(req, "x")];
    int g = input_named(req, "grad_output");
    const tensor *grad_output = g >= 0 ? req->in[g].t : NULL;
    int main = 0, main_text = 0, slope = 0, slope_text = 0;
    for (size_t i = 0; i < res->noutputs; i++) {
        main |= !res->out[i].slope;
        main_text |= !res->out[i].slope && res->out[i].text;
        slope |= res->out[i].slope;
        slope_text |= res->out[i].slope && res->out[i].text;
    }
    if (slope) { /* before the kernel overwrites x */
        res->grad_slope = malloc(cs->count * sizeof *res->grad_slope);
        if (!res->grad_slope)
            return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
        res->nslopes = cs->count;
        lr_err rc = compute_grad_slope(x->t, grad_output, cs, slope_text, res->grad_slope, err);
        if (rc != LR_ERR_OK)
            return rc;
    }
    if (!main)
        return LR_ERR_OK;
    compute_op op = req->model == INFER_MODEL_FORWARD ? COMPUTE_FORWARD
                    : grad_output                      ? COMPUTE_BACKWARD
                                                       : COMPUTE_GRADIENT;
    lr_err rc = compute_run(op, x->t, grad_output, cs, main_text, workers, x->path,
                            "; binary outputs carry infinities", err);
    if (rc == LR_ERR_OK)
        res->y = x->t;
    return rc;
}

lr_err infer_run(const infer_request *req, struct pool *workers, infer_result *res,
                 lr_error *err)
{
    memset(res, 0, sizeof *res);
    lr_error_clear(err);
    lr_err rc = check_inputs(req, err);
    if (rc != LR_ERR_OK)
        return rc;
    const infer_input *x = &req->in[input_named(req, "x")];
    compute_slope cs = compute_slope_of(req->slopes, x->t);
    int list = req->slopes && req->slopes->ndim == 1;
    res->dtype = x->dtype;
    if ((rc = pick_outputs(req, list, res, err)) != LR_ERR_OK ||
        (rc = compute_check_slope(x->t, &cs, x->dtype, err)) != LR_ERR_OK)
        goto fail;
    for (size_t i = 0; i < req->ninputs; i++) /* numbers read as float64 */
        if (req->in[i].dtype == TENSOR_F32 && req->in[i].t->dtype == TENSOR_F64 &&
            (rc = compute_narrow(req->in[i].t, req->in[i].path, err)) != LR_ERR_OK)
            goto fail;
    if ((rc = run(req, &cs, res, workers, err)) == LR_ERR_OK)
        return LR_ERR_OK;
fail:
    infer_result_free(res);
    return rc;
}

void infer_result_free(infer_result *res)
{
    free(res->grad_slope);
    memset(res, 0, sizeof *res);
}
