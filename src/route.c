/* The routes' names and methods, from route.h's table. */
#include "route.h"

#include <string.h>

const char *api_route_name(api_route route)
{
    static const char *const names[API_ROUTES] = {
#define NAME(id, path, method, name, protocol, handler) [API_##id] = name,
        API_ROUTE_MAP(NAME)
#undef NAME
        [API_NONE] = "none",
    };
    return (unsigned)route < API_ROUTES ? names[route] : "none";
}

int api_route_has_body(api_route route)
{
    static const unsigned char post[API_ROUTES] = {
#define METHOD(id, path, method, name, protocol, handler) \
    [API_##id] = API_METHOD_##method == API_METHOD_POST,
        API_ROUTE_MAP(METHOD)
#undef METHOD
    };
    return (unsigned)route < API_ROUTES && post[route];
}
