/* Tests of Open Inference Protocol inference requests (src/request_oip.c):
 * what each member gives, member orders, data flat or nested against its
 * shape, binary inputs, every error with its path, and the same result
 * however the body is split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/errors.h"
#include "../src/request.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

static lr_err parse(const char *body, request *req, lr_error *err)
{
    request_init(req);
    return request_parse(body, strlen(body), REQUEST_OIP, req, err);
}

void test_request_oip(void)
{
    request req;
    lr_error err;
    /* the specification's example, shaped (2, 3), flat */
    const char *body =
        "{\"id\": \"42\", \"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": "
        "\"FP64\", \"data\": [1, -2, 3, -4, 5, -6]}], \"outputs\": [{\"name\": \"y\"}]}";
    ASSERT_EQ(parse(body, &req, &err), LR_ERR_OK);
    ASSERT_STR_EQ(req.oip.id, "42");
    ASSERT_EQ(req.x.count, 6);
    ASSERT_EQ(req.x.ndim, 2);
    ASSERT_EQ(req.x.shape[0], 2);
    ASSERT_EQ(req.x.shape[1], 3);
    ASSERT_BITS_EQ(req.x.data[5], -6.0);
    ASSERT_EQ(req.has_dtype, 1);
    ASSERT_EQ(req.dtype, TENSOR_F64);
    ASSERT_EQ(req.has_grad_output, 0);
    ASSERT_EQ(req.oip.noutputs, 1);
    ASSERT_STR_EQ(req.oip.out[0].name, "y");
    ASSERT_EQ(req.oip.out[0].binary, 0);
    request_free(&req);
    test_check_reader_everywhere(body, REQUEST_OIP, "the example");

    /* grad_output first, data before its shape, nested data, FP32, the
     * parameters */
    body = "{\"parameters\": {\"negative_slope\": [0.5, 0.25], \"binary_data_output\": true},"
           " \"inputs\": [{\"data\": [[7, 8], [9, 10]], \"datatype\": \"FP32\", \"name\": "
           "\"grad_output\", \"shape\": [2, 2]}, {\"name\": \"x\", \"datatype\": \"FP32\", "
           "\"shape\": [2, 2], \"parameters\": {}, \"data\": [1, -1, 2, -2]}], \"outputs\": "
           "[{\"name\": \"grad\", \"parameters\": {\"binary_data\": true}}, {\"name\": "
           "\"grad_slope\", \"parameters\": {\"binary_data\": false}}]}";
    ASSERT_EQ(parse(body, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.has_grad_output, 1);
    ASSERT_BITS_EQ(req.x.data[1], -1.0);
    ASSERT_BITS_EQ(req.grad_output.data[0], 7.0);
    ASSERT_EQ(req.grad_output.ndim, 2);
    ASSERT_STR_EQ(req.oip.in[0].name, "x");
    ASSERT_EQ(req.dtype, TENSOR_F32);
    ASSERT_EQ(req.has_slope, 1);
    ASSERT_EQ(req.slopes.ndim, 1);
    ASSERT_EQ(req.slopes.count, 2);
    ASSERT_BITS_EQ(req.slopes.data[1], 0.25);
    ASSERT_EQ(req.oip.binary_output, 1);
    ASSERT_EQ(req.oip.out[0].binary, 1);
    ASSERT_EQ(req.oip.out[1].binary, 0);
    request_free(&req);
    test_check_reader_everywhere(body, REQUEST_OIP, "two inputs");

    /* a binary input: its shape and size, no data */
    body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\",\"parameters\":"
           "{\"binary_data_size\":12}}],\"parameters\":{\"negative_slope\":0.1,\"timeout\":5}}";
    ASSERT_EQ(parse(body, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.oip.in[0].binary, 1);
    ASSERT_EQ(req.oip.in[0].binary_size, 12);
    ASSERT_EQ(req.x.ndim, 1);
    ASSERT_EQ(req.x.shape[0], 3);
    ASSERT_EQ(req.x.count, 0); /* to be filled */
    ASSERT_EQ(req.slopes.ndim, 0);
    request_free(&req);
    test_check_reader_everywhere(body, REQUEST_OIP, "binary");
}

void test_request_oip_errors(void)
{
    static const struct {
        const char *body;
        lr_err code;
        const char *path, *words;
    } cases[] = {
        {"[1]", LR_ERR_BODY_TYPE, "", "must be an object"},
        /* found by the fuzzer: a skipped body resumed as if in the object */
        {"[1e-05, -0, 1e400, 123456789012345678901234567890]", LR_ERR_BODY_TYPE, "", NULL},
        {"[[1, 2], [3, {\"a\": [4, 5, 6, 7]}]]", LR_ERR_BODY_TYPE, "", NULL},
        {"{}", LR_ERR_BAD_INPUT, "inputs", "no inputs"},
        {"{\"inputs\": []}", LR_ERR_BAD_INPUT, "inputs", "no inputs"},
        {"{\"inputs\": {}}", LR_ERR_BAD_INPUT, "inputs", "array of objects"},
        {"{\"inputs\": [1]}", LR_ERR_BAD_INPUT, "inputs", "inputs[0] must be an object, not a number"},
        {"{\"inputs\": [{\"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}", LR_ERR_BAD_INPUT,
         "inputs[0]", "has no \"name\""},
        {"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP64\", \"data\": [1]}]}", LR_ERR_BAD_INPUT,
         "inputs[0]", "has no \"shape\""},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"data\": [1]}]}", LR_ERR_BAD_INPUT,
         "inputs[0]", "has no \"datatype\""},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\"}]}", LR_ERR_BAD_INPUT,
         "inputs[0]", "must have \"data\""},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"INT32\", \"data\": [1]}]}",
         LR_ERR_BAD_DTYPE, "inputs[0].datatype", "not \"INT32\""},
        {"{\"inputs\": [{\"name\": \"z\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}",
         LR_ERR_BAD_INPUT, "inputs[0].name", "unknown input \"z\""},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1]}]}",
         LR_ERR_SHAPE_MISMATCH, "inputs[0]", "has 1 numbers, but shape makes 2"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [3, 2], \"datatype\": \"FP64\", \"data\": "
         "[[1, 2, 3], [4, 5, 6]]}]}", LR_ERR_SHAPE_MISMATCH, "inputs[0]", "nested as another shape"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": "
         "[\"a\"]}]}", LR_ERR_NOT_A_NUMBER, "inputs[0].data[0]", NULL},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": 5}]}",
         LR_ERR_BAD_INPUT, "inputs[0].data", "must be an array"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [-1], \"datatype\": \"FP64\", \"data\": [1]}]}",
         LR_ERR_BAD_SHAPE, "inputs[0].shape", "0 or more"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": 1, \"datatype\": \"FP64\", \"data\": [1]}]}",
         LR_ERR_BAD_SHAPE, "inputs[0].shape", "must be an array"},
        {"{\"inputs\": [{\"name\": \"x\", \"name\": \"x\"}]}", LR_ERR_DUPLICATE_MEMBER, "inputs[0]",
         "appears twice"},
        {"{\"inputs\": [{\"name\": \"x\", \"size\": 1}]}", LR_ERR_UNKNOWN_MEMBER, "inputs[0]",
         "unknown member \"size\""},
        {"{\"inputs\": [{\"name\": 5}]}", LR_ERR_BAD_MEMBER, "inputs[0].name", "must be a string"},
        {"{\"inputs\": [{}, {}, {}]}", LR_ERR_BAD_INPUT, "inputs", "more than 2 inputs"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]},"
         " {\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}",
         LR_ERR_BAD_INPUT, "inputs", "given twice"},
        {"{\"inputs\": [{\"name\": \"grad_output\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [1]}]}", LR_ERR_BAD_INPUT, "inputs", "no input \"x\""},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]},"
         " {\"name\": \"grad_output\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}",
         LR_ERR_BAD_DTYPE, "inputs", "grad_output's datatype"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, 2]},"
         " {\"name\": \"grad_output\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}",
         LR_ERR_SHAPE_MISMATCH, "inputs", "x's shape"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, 2], "
         "\"parameters\": {\"binary_data_size\": 16}}]}", LR_ERR_BAD_INPUT, "inputs[0]", "not both"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"parameters\": "
         "{\"binary_data_size\": 15}}]}", LR_ERR_BINARY_LENGTH, "inputs[0]", "make 16 bytes"},
        {"{\"inputs\": [{\"name\": \"x\", \"parameters\": {\"shared_memory_region\": \"r\"}}]}",
         LR_ERR_UNKNOWN_PARAM, "inputs[0].parameters", "shared memory is not supported"},
        {"{\"id\": 42, \"inputs\": []}", LR_ERR_BAD_MEMBER, "id", "must be a string"},
        {"{\"parameters\": {\"negative_slope\": \"0.1\"}}", LR_ERR_BAD_SLOPE,
         "parameters.negative_slope", NULL},
        {"{\"parameters\": {\"negative_slope\": []}}", LR_ERR_BAD_SLOPE,
         "parameters.negative_slope", "empty"},
        {"{\"parameters\": {\"negative_slope\": 1e400}}", LR_ERR_BAD_MEMBER, "parameters", NULL},
        {"{\"parameters\": {\"slope\": 0.1}}", LR_ERR_UNKNOWN_PARAM, "parameters",
         "unknown parameter \"slope\""},
        {"{\"parameters\": {\"binary_data_output\": 1}}", LR_ERR_BAD_PARAMETER,
         "parameters.binary_data_output", "true or false"},
        {"{\"parameters\": {\"a\": 1, \"a\": 2}}", LR_ERR_BAD_MEMBER, "parameters", "duplicate"},
        {"{\"outputs\": [{\"name\": \"y\"}, {}, {}, {}, {}]}", LR_ERR_BAD_OUTPUT, "outputs",
         "at most 4"},
        {"{\"outputs\": [{\"parameters\": {}}]}", LR_ERR_BAD_OUTPUT, "outputs[0]", "no \"name\""},
        {"{\"outputs\": [{\"name\": \"y\", \"parameters\": {\"classification\": 2}}]}",
         LR_ERR_UNKNOWN_PARAM, "outputs[0].parameters", "classification"},
        {"{\"inputs\": [], \"model\": 1}", LR_ERR_UNKNOWN_MEMBER, "", "unknown member \"model\""},
        {"{\"inputs\": [], \"inputs\": []}", LR_ERR_DUPLICATE_MEMBER, "", NULL},
        /* a syntax error still wins, with its offset */
        {"{\"inputs\": [{\"name\": 5}], \"id\": tru}", LR_ERR_JSON_SYNTAX, "", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request req;
        lr_error err;
        lr_err rc = parse(cases[i].body, &req, &err);
        if (rc != cases[i].code || strcmp(err.path, cases[i].path) != 0 ||
            (cases[i].words && !strstr(err.detail, cases[i].words)))
            tap_fail(__FILE__, __LINE__, "case %zu %s: want %s \"%s\" (%s), got %s \"%s\": %s", i,
                     cases[i].body, lr_err_code(cases[i].code), cases[i].path,
                     cases[i].words ? cases[i].words : "", lr_err_code(rc), err.path, err.detail);
        request_free(&req);
        test_check_reader_everywhere(cases[i].body, REQUEST_OIP, cases[i].body);
    }
}
