/* The API's front: the route table (route.h) with each route's handler,
 * what a request line may ask (api_begin), dispatch (api_handle), and the
 * small endpoints (health, version, metrics, the OpenAPI document). The
 * handlers are plain functions from a parsed request to a reply, with no
 * socket or HTTP library involved (server.c adapts). */
#include "api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "lrelu.h"
#include "metrics.h"
#include "openapi.h"
#include "version.h"

static void api__handle_health(const api_request *req, api_response *resp);
static void api__handle_ready(const api_request *req, api_response *resp);
static void api__handle_version(const api_request *req, api_response *resp);
static void api__handle_metrics(const api_request *req, api_response *resp);
static void api__handle_openapi(const api_request *req, api_response *resp);

static const struct route {
    const char *path;
    int method;
    int protocol;
    void (*handler)(const api_request *, api_response *);
} routes[API_ROUTES] = {
#define ROUTE(id, path, method, name, protocol, handler)                                    \
    [API_##id] = {path, API_METHOD_##method, API_PROTOCOL_##protocol, handler},
    API_ROUTE_MAP(ROUTE)
#undef ROUTE
};

/* The methods a route takes, for Allow. */
static const char *route_allow(api_route route)
{
    return routes[route].method == API_METHOD_POST ? "POST, OPTIONS" : "GET, HEAD, OPTIONS";
}

/* The body format a Content-Type names, or -1: application/json,
 * application/x-www-form-urlencoded (what curl -d sends), text/plain
 * (what fetch sends for a string body) or no Content-Type at all are
 * JSON; application/octet-stream is binary; parameters after ';' are
 * ignored. */
static int media_format(const char *ct, int *form)
{
    static const struct {
        const char *type;
        api_format format;
        int form; /* a form's type: told so when the body is not JSON */
    } ok[] = {{"application/json", API_FORMAT_JSON, 0},
              {"application/x-www-form-urlencoded", API_FORMAT_JSON, 1},
              {"text/plain", API_FORMAT_JSON, 0},
              {"application/octet-stream", API_FORMAT_BINARY, 0}};
    *form = 0;
    if (!ct)
        return API_FORMAT_JSON;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (*ct == '\0')
        return API_FORMAT_JSON; /* an empty header is no header */
    size_t n = strcspn(ct, "; \t");
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0' && *rest != ';')
        return -1; /* "application/json garbage" */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (n == strlen(ok[i].type) && strncasecmp(ct, ok[i].type, n) == 0) {
            *form = ok[i].form;
            return (int)ok[i].format;
        }
    }
    return -1;
}

/* The method against the route's: OPTIONS anywhere (answered by
 * api_handle), GET or HEAD, or POST and a Content-Type it takes. */
static int method_allowed(const char *method, const char *path, const char *content_type,
                          api_head *head, api_response *resp)
{
    const struct route *r = &routes[head->route];
    if (strcmp(method, "OPTIONS") == 0) {
        head->options = 1;
        return 1;
    }
    int allowed = r->method == API_METHOD_POST ? strcmp(method, "POST") == 0
                                    : strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!allowed) {
        api__error_response(resp, LR_ERR_METHOD, "%s is not allowed on %s; use %s", method, path,
                            r->method == API_METHOD_POST ? "POST" : "GET");
        resp->allow = route_allow(head->route);
        return 0;
    }
    if (r->protocol == API_PROTOCOL_OIP) {
        head->format = API_FORMAT_OIP;
        return 1;
    }
    int format = r->method == API_METHOD_POST ? media_format(content_type, &head->form)
                                              : API_FORMAT_JSON;
    if (format < 0) {
        api__error_response(resp, LR_ERR_MEDIA_TYPE,
                            "Content-Type must be application/json, "
                            "application/x-www-form-urlencoded, text/plain, "
                            "application/octet-stream or none, not %.100s",
                            content_type);
        return 0;
    }
    head->format = (api_format)format;
    return 1;
}

int api_method_known(const char *method)
{
    static const char *const served[] = {"GET", "HEAD", "POST", "OPTIONS"};
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
        if (strcmp(method, served[i]) == 0)
            return 1;
    return 0;
}

int api_begin(const char *method, const char *path, const char *content_type,
              api_head *head, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    memset(head, 0, sizeof *head);
    head->route = API_NONE;
    if (!api_method_known(method)) { /* RFC 9110 section 15.6.2: for any resource */
        for (int i = 0; i < API_NONE; i++)
            if (routes[i].protocol == API_PROTOCOL_REST && strcmp(path, routes[i].path) == 0) {
                api__error_response(resp, LR_ERR_NOT_IMPLEMENTED, "%.40s is not a method this "
                                    "server serves; use %s on %s", method,
                                    routes[i].method == API_METHOD_POST ? "POST" : "GET", path);
                resp->allow = route_allow((api_route)i);
                head->route = (api_route)i;
                return 0;
            }
        api__error_response(resp, LR_ERR_NOT_IMPLEMENTED, "%.40s is not a method this server "
                            "serves; its endpoints take GET, HEAD, POST and OPTIONS", method);
        return 0;
    }
    if (strcmp(path, "*") == 0) { /* the asterisk form: the server as a whole */
        if (strcmp(method, "OPTIONS") != 0) {
            api__error_response(resp, LR_ERR_BAD_TARGET,
                                "the target * is for OPTIONS only, not %s", method);
            return 0;
        }
        api__respond_empty(resp, 204);
        resp->allow = "GET, HEAD, POST, OPTIONS";
        return 0;
    }
    if (strncmp(path, "/v2", 3) == 0 && (path[3] == '\0' || path[3] == '/')) {
        if (!api__oip_route(path, head, resp))
            return 0;
        return method_allowed(method, path, content_type, head, resp);
    }
    for (int i = 0; i < API_NONE; i++) {
        if (routes[i].protocol == API_PROTOCOL_REST && strcmp(path, routes[i].path) == 0) {
            head->route = (api_route)i;
            return method_allowed(method, path, content_type, head, resp);
        }
    }
    api__error_response(resp, LR_ERR_NOT_FOUND,
                        "no endpoint %.200s; try POST /forward or POST /gradient, or see "
                        "GET /openapi.json", path);
    return 0;
}

static void api__handle_health(const api_request *req, api_response *resp)
{
    (void)req;
    api__respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void api__handle_ready(const api_request *req, api_response *resp)
{
    if (req->draining)
        api__error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
    else
        api__handle_health(req, resp);
}

static void api__handle_version(const api_request *req, api_response *resp)
{
    (void)req;
    api__respond_json(resp, 200, json_pack("{s:s, s:s, s:s}", "name", "leakyrelu", "version",
                                           LEAKYRELU_VERSION, "kernel", lrelu_variant()));
}

static void api__handle_metrics(const api_request *req, api_response *resp)
{
    static const metrics_extra none = {.memory_budget_bytes = SIZE_MAX};
    if (!req->metrics) {
        api__error_response(resp, LR_ERR_NOT_FOUND, "this server keeps no metrics");
        return;
    }
    size_t len = 0;
    char *text = metrics_render(req->metrics, req->extra ? req->extra : &none, &len);
    if (!text) {
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    api__respond(resp, 200, text, len);
    resp->content_type = METRICS_CONTENT_TYPE;
}

static void api__handle_openapi(const api_request *req, api_response *resp)
{
    if (api__respond_copy(resp, openapi_json, openapi_json_len, "application/json"))
        api__cacheable(req, resp, "no-cache");
}

void api_handle(const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    if (req->body && !api__body_complete(req->body)) {
        api__error_response(resp, LR_ERR_BAD_ENCODING, "the body ends before its coded data "
                            "does (cut short?)");
    } else if (req->options) { /* what may be asked here (a CORS preflight too) */
        api__respond_empty(resp, 204);
        resp->allow = route_allow(req->route);
    } else if ((unsigned)req->route < API_NONE) {
        routes[req->route].handler(req, resp);
        if (routes[req->route].protocol == API_PROTOCOL_OIP && resp->status == 422)
            resp->status = 400; /* the protocol's request errors are 400s */
    } else {
        api__error_response(resp, LR_ERR_NOT_FOUND, NULL);
    }
    api_body_free(req->body);
}
