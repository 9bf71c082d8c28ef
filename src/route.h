/* The service's routes, in one table: each route's path, the methods it
 * takes, its name in metrics and logs, the protocol it belongs to and its
 * handler. Adding a route is one line here and its handler. metrics.c and
 * server.c read this file, not api.h: they need the names, not the API. */
#ifndef LEAKYRELU_ROUTE_H
#define LEAKYRELU_ROUTE_H

/* X(ID, path, method, name, protocol, handler)
 *   ID        API_<ID> in enum api_route
 *   path      matched exactly; for the Open Inference Protocol's routes
 *             (protocol OIP) a pattern, matched by api_oip.c, shown in
 *             messages
 *   method    POST (a body, application/json or octet-stream) or GET
 *             (HEAD too); OPTIONS is answered on every route
 *   name      the route's label in metrics and the access log
 *   protocol  REST, or OIP: request errors are 400s, as the protocol says
 *   handler   void handler(const api_request *, api_response *) (api.c) */
#define API_ROUTE_MAP(X)                                                                   \
    X(FORWARD, "/forward", POST, "forward", REST, api__handle_compute)                    \
    X(GRADIENT, "/gradient", POST, "gradient", REST, api__handle_compute)                 \
    X(HEALTHZ, "/healthz", GET, "healthz", REST, api__handle_health)                      \
    X(LIVEZ, "/livez", GET, "livez", REST, api__handle_health)                            \
    X(READYZ, "/readyz", GET, "readyz", REST, api__handle_ready)                          \
    X(VERSION, "/version", GET, "version", REST, api__handle_version)                     \
    X(METRICS, "/metrics", GET, "metrics", REST, api__handle_metrics)                     \
    X(OPENAPI, "/openapi.json", GET, "openapi", REST, api__handle_openapi)                \
    X(PLOT, "/plot.svg", GET, "plot", REST, api__handle_plot)                             \
    X(PLAYGROUND, "/", GET, "playground", REST, api__handle_page)                         \
    X(V2, "/v2", GET, "v2", OIP, api__handle_oip_server)                                  \
    X(V2_LIVE, "/v2/health/live", GET, "v2_health_live", OIP, api__handle_oip_live)       \
    X(V2_READY, "/v2/health/ready", GET, "v2_health_ready", OIP, api__handle_oip_ready)   \
    X(V2_MODEL, "/v2/models/{model}", GET, "v2_model", OIP, api__handle_oip_model)        \
    X(V2_MODEL_READY, "/v2/models/{model}/ready", GET, "v2_model_ready", OIP,              \
      api__handle_oip_ready)                                                               \
    X(V2_INFER, "/v2/models/{model}/infer", POST, "v2_infer", OIP, api__handle_infer)

/* The method and protocol columns' values: API_METHOD_##method,
 * API_PROTOCOL_##protocol. */
enum { API_METHOD_GET, API_METHOD_POST };
enum { API_PROTOCOL_REST, API_PROTOCOL_OIP };

typedef enum api_route {
#define API_ROUTE_ENUM(id, path, method, name, protocol, handler) API_##id,
    API_ROUTE_MAP(API_ROUTE_ENUM)
#undef API_ROUTE_ENUM
    API_NONE,  /* no endpoint matched (for counting; never routed) */
    API_ROUTES /* how many there are, API_NONE included */
} api_route;

/* The route's name in metrics and logs: "forward", ..., "none". */
const char *api_route_name(api_route route);

/* 1 when the route takes a request body (POST), else 0. */
int api_route_has_body(api_route route);

#endif
