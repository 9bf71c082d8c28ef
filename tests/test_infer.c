/* Tests of src/infer.c: an inference through the transport-neutral core,
 * with no HTTP and no JSON: decoded inputs (name, datatype, shape, data)
 * in, outputs out, and each of its checks as the error a transport would
 * send. */
#include <math.h>
#include <string.h>

#include "../src/infer.h"
#include "tap.h"
#include "tests.h"

/* A tensor over the caller's n numbers, shaped (not owned). */
static tensor view(void *data, size_t n, tensor_dtype dtype, int ndim, const size_t *shape)
{
    tensor t;
    tensor_init(&t);
    t.data = data;
    t.count = t.cap = n;
    t.dtype = dtype;
    t.ndim = ndim;
    memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    return t;
}

/* A tensor of its own, holding v[0..n) flat (tensor_free it). */
static tensor owned(const double *v, size_t n)
{
    tensor t;
    tensor_init(&t);
    for (size_t i = 0; i < n; i++)
        ASSERT_EQ(tensor_push(&t, v[i]), 0);
    t.ndim = 1;
    t.shape[0] = n;
    return t;
}

static double lrelu(double x, double a) { return x > 0 ? x : a * x; }

void test_infer_forward(void)
{
    double x[4] = {-2.5, 0.0, 3.25, -0.0};
    const double want[4] = {lrelu(-2.5, 0.01), lrelu(0.0, 0.01), 3.25, lrelu(-0.0, 0.01)};
    size_t shape[2] = {2, 2};
    tensor tx = view(x, 4, TENSOR_F64, 2, shape);
    infer_request req = {.model = INFER_MODEL_FORWARD, .ninputs = 1, .text = 1};
    req.in[0] = (infer_input){"x", TENSOR_F64, &tx, "inputs[0].data"};
    infer_result res;
    lr_error err;
    ASSERT_EQ(infer_run(&req, NULL, &res, &err), LR_ERR_OK);
    ASSERT_EQ(res.noutputs, 1);
    ASSERT_STR_EQ(res.out[0].name, "y");
    ASSERT(res.y == &tx); /* computed in place */
    ASSERT_EQ(res.dtype, TENSOR_F64);
    for (int i = 0; i < 4; i++)
        ASSERT_BITS_EQ(x[i], want[i]);
    ASSERT(signbit(x[3])); /* -0.0 * 0.01 is -0.0, as in PyTorch */
    infer_result_free(&res);
}

/* leaky_relu_grad with grad_output and a slope per channel (PReLU): grad
 * and grad_slope, the inputs given grad_output first. */
void test_infer_backward_prelu(void)
{
    double x[4] = {-1.0, 2.0, -3.0, -4.0}, g[4] = {0.5, 0.25, 2.0, -1.0};
    double slopes_v[2] = {0.1, 0.2};
    size_t shape[2] = {1, 2}, flat[1] = {2};
    tensor tx = view(x, 2, TENSOR_F64, 2, shape), tg = view(g, 2, TENSOR_F64, 2, shape);
    tensor slopes = view(slopes_v, 2, TENSOR_F64, 1, flat);
    infer_request req = {.model = INFER_MODEL_GRADIENT, .ninputs = 2, .slopes = &slopes};
    req.in[0] = (infer_input){"grad_output", TENSOR_F64, &tg, "inputs[0].data"};
    req.in[1] = (infer_input){"x", TENSOR_F64, &tx, "inputs[1].data"};
    infer_result res;
    lr_error err;
    ASSERT_EQ(infer_run(&req, NULL, &res, &err), LR_ERR_OK);
    ASSERT_EQ(res.noutputs, 2); /* all the model has: grad, grad_slope */
    ASSERT_STR_EQ(res.out[0].name, "grad");
    ASSERT_STR_EQ(res.out[1].name, "grad_slope");
    ASSERT_EQ(res.nslopes, 2);
    /* channel 0: x = -1 <= 0, so grad = 0.5 * 0.1 and grad_slope = 0.5 * -1;
     * channel 1: x = 2 > 0, so grad = 0.25 and grad_slope = 0 */
    ASSERT_BITS_EQ(x[0], 0.5 * 0.1);
    ASSERT_BITS_EQ(x[1], 0.25);
    ASSERT_BITS_EQ(res.grad_slope[0], -0.5);
    ASSERT_BITS_EQ(res.grad_slope[1], 0.0);
    infer_result_free(&res);

    /* grad_slope alone, by name: x is left as it is */
    double x2[2] = {-1.0, 2.0}, g2[2] = {0.5, 0.25};
    tx = view(x2, 2, TENSOR_F64, 2, shape);
    tg = view(g2, 2, TENSOR_F64, 2, shape);
    req.noutputs = 1;
    req.outputs[0].name = "grad_slope";
    ASSERT_EQ(infer_run(&req, NULL, &res, &err), LR_ERR_OK);
    ASSERT_EQ(res.noutputs, 1);
    ASSERT_STR_EQ(res.out[0].name, "grad_slope");
    ASSERT_EQ(res.out[0].slope, 1);
    ASSERT(res.y == NULL);
    ASSERT_BITS_EQ(x2[0], -1.0);
    ASSERT_BITS_EQ(res.grad_slope[0], -0.5);
    infer_result_free(&res);
}

/* FP32 data read as float64 (as JSON gives it) is narrowed once; the
 * result is float32's, and an output asked by name comes alone. */
void test_infer_float32(void)
{
    const double x[3] = {-0.1, 0.1, -1e30};
    tensor tx = owned(x, 3);
    infer_request req = {.model = INFER_MODEL_FORWARD, .ninputs = 1, .noutputs = 1};
    req.in[0] = (infer_input){"x", TENSOR_F32, &tx, "inputs[0].data"};
    req.outputs[0].name = "y";
    req.outputs[0].text = 1;
    infer_result res;
    lr_error err;
    ASSERT_EQ(infer_run(&req, NULL, &res, &err), LR_ERR_OK);
    ASSERT_EQ(res.dtype, TENSOR_F32);
    ASSERT_EQ(tx.dtype, TENSOR_F32);
    const float *y = (const float *)(const void *)tx.data;
    ASSERT(y[0] == (float)-0.1 * (float)0.01);
    ASSERT(y[1] == (float)0.1);
    ASSERT(y[2] == (float)-1e30 * (float)0.01);
    infer_result_free(&res);
    tensor_free(&tx);
}

/* Each check, as the error and the path a transport reports. */
static lr_err run_error(infer_request *req, lr_error *err)
{
    infer_result res;
    lr_err rc = infer_run(req, NULL, &res, err);
    infer_result_free(&res);
    return rc;
}

void test_infer_errors(void)
{
    double x[2] = {-1.0, 1.0}, g[2] = {1.0, 1.0}, s[3] = {1, 2, 3};
    const double big[2] = {1e300, 1.0};
    size_t shape[1] = {2}, three[1] = {3}, one[1] = {1};
    tensor tx = view(x, 2, TENSOR_F64, 1, shape), tg = view(g, 2, TENSOR_F64, 1, shape);
    tensor tbig = owned(big, 2), slopes = view(s, 3, TENSOR_F64, 1, three);
    tensor short_g = view(g, 1, TENSOR_F64, 1, one);
    lr_error err;
    infer_request req = {.model = INFER_MODEL_FORWARD, .ninputs = 2, .text = 1};
    req.in[0] = (infer_input){"x", TENSOR_F64, &tx, "inputs[0].data"};
    req.in[1] = (infer_input){"grad_output", TENSOR_F64, &tg, "inputs[1].data"};
    ASSERT_EQ(run_error(&req, &err), LR_ERR_BAD_INPUT); /* leaky_relu takes x alone */
    ASSERT(strstr(err.detail, "grad_output is leaky_relu_grad's") != NULL);

    tensor miscounted = view(x, 2, TENSOR_F64, 1, three); /* 2 numbers, shape [3] */
    infer_request counted = {.model = INFER_MODEL_FORWARD, .ninputs = 1, .text = 1};
    counted.in[0] = (infer_input){"x", TENSOR_F64, &miscounted, "inputs[0].data"};
    ASSERT_EQ(run_error(&counted, &err), LR_ERR_SHAPE_MISMATCH);
    ASSERT_STR_EQ(err.path, "inputs[0]");
    ASSERT(strstr(err.detail, "2 numbers, but the shape makes 3") != NULL);

    req.model = INFER_MODEL_GRADIENT;
    req.in[1].name = "z";
    ASSERT_EQ(run_error(&req, &err), LR_ERR_BAD_INPUT);
    ASSERT_STR_EQ(err.path, "inputs[1].name");
    req.in[1].name = "x";
    ASSERT_EQ(run_error(&req, &err), LR_ERR_BAD_INPUT);
    ASSERT(strstr(err.detail, "given twice") != NULL);
    req.in[1] = (infer_input){"grad_output", TENSOR_F64, &short_g, "inputs[1].data"};
    ASSERT_EQ(run_error(&req, &err), LR_ERR_SHAPE_MISMATCH);
    req.in[1] = (infer_input){"grad_output", TENSOR_F32, &tg, "inputs[1].data"};
    ASSERT_EQ(run_error(&req, &err), LR_ERR_BAD_DTYPE);

    req.ninputs = 1;
    req.noutputs = 2;
    req.outputs[0].name = "grad";
    req.outputs[1].name = "grad";
    ASSERT_EQ(run_error(&req, &err), LR_ERR_BAD_OUTPUT);
    req.outputs[1].name = "grad_slope"; /* only with a list of slopes */
    ASSERT_EQ(run_error(&req, &err), LR_ERR_BAD_OUTPUT);
    ASSERT_STR_EQ(err.path, "outputs[1].name");
    req.noutputs = 0;

    req.slopes = &slopes; /* 3 slopes for 1 channel */
    ASSERT_EQ(run_error(&req, &err), LR_ERR_SLOPE_COUNT);
    ASSERT_STR_EQ(err.path, "slope");
    req.slopes = NULL;

    req.in[0] = (infer_input){"x", TENSOR_F32, &tbig, "inputs[0].data"};
    ASSERT_EQ(run_error(&req, &err), LR_ERR_NUMBER_RANGE); /* 1e300 is no float32 */
    ASSERT_STR_EQ(err.path, "inputs[0].data[0]");
    tensor_free(&tbig);

    double huge[1] = {-1.7e308}, h2[1] = {-1.7e308};
    tensor th = view(huge, 1, TENSOR_F64, 1, one), th2 = view(h2, 1, TENSOR_F64, 1, one);
    double a = 2.0;
    tensor ta = view(&a, 1, TENSOR_F64, 0, one);
    infer_request fw = {.model = INFER_MODEL_FORWARD, .ninputs = 1, .slopes = &ta, .text = 1};
    fw.in[0] = (infer_input){"x", TENSOR_F64, &th, "inputs[0].data"};
    ASSERT_EQ(run_error(&fw, &err), LR_ERR_NOT_FINITE); /* text has no infinities */
    ASSERT_STR_EQ(err.path, "inputs[0].data[0]");
    fw.in[0].t = &th2;
    fw.text = 0; /* binary outputs carry them */
    ASSERT_EQ(run_error(&fw, &err), LR_ERR_OK);
    ASSERT(isinf(h2[0]) && h2[0] < 0);
}
