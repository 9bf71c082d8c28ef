/* Tests of configuration (src/config.c): flags, their errors and sizes. */
#include <stdint.h>
#include <stdio.h>

#include "../src/config.h"
#include "tap.h"
#include "tests.h"

void test_config(void)
{
    config cfg;
    FILE *devnull = fopen("/dev/null", "w");
    ASSERT(devnull != NULL);
    if (!devnull)
        return;
    char *ok[] = {"x", "--port", "0", "--bind=::1", "--threads", "3", "--max-body", "2M",
                  "--timeout", "5", "--grace=1", NULL};
    ASSERT_EQ(config_load(&cfg, 11, ok, devnull, devnull), -1);
    ASSERT_EQ(cfg.port, 0);
    ASSERT_STR_EQ(cfg.bind, "::1");
    ASSERT_EQ(cfg.threads, 3);
    ASSERT_EQ(cfg.max_body, 2 << 20);
    ASSERT_EQ(cfg.timeout_s, 5);
    ASSERT_EQ(cfg.grace_s, 1);
    char *bad[][3] = {{"x", "--port", "65536"}, {"x", "--bind", "localhost:1"},
                      {"x", "--threads", "0"},  {"x", "--max-body", "12Q"},
                      {"x", "--nope", "1"},     {"x", "--timeout", "-1"},
                      {"x", "--port", ""},      {"x", "--max-connections-per-ip", "-1"},
                      {"x", "--max-connections", "0"},        {"x", "--header-timeout", "x"},
                      {"x", "--min-body-rate", "-5"},         {"x", "--max-memory", "1T"},
                      {"x", "--log", "JSON"},
                      {"x", "--cors-origin", "https://a.example/"},
                      {"x", "--cors-origin", "a.example"},
                      {"x", "--cors-origin", "https://a b"},
                      {"x", "--cors-origin", "https://a.example:123456"},
                      {"x", "--cors-origin", "https://a,"},
                      {"x", "--connection-memory", "4K"},
                      {"x", "--connection-memory", "17M"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(config_load(&cfg, 3, bad[i], devnull, devnull), 2);
    ASSERT_EQ(cfg.header_timeout_s, 10); /* defaults */
    ASSERT_EQ(cfg.min_body_rate, 1024);
    char *slow[] = {"x", "--header-timeout", "3", "--min-body-rate=0", NULL};
    ASSERT_EQ(config_load(&cfg, 4, slow, devnull, devnull), -1);
    ASSERT_EQ(cfg.header_timeout_s, 3);
    ASSERT_EQ(cfg.min_body_rate, 0);
    char *rate[] = {"x", "--min-body-rate", "2K", NULL};
    ASSERT_EQ(config_load(&cfg, 3, rate, devnull, devnull), -1);
    ASSERT_EQ(cfg.min_body_rate, 2048);
    char *conns[] = {"x", "--max-connections-per-ip", "4", NULL};
    ASSERT_EQ(config_load(&cfg, 3, conns, devnull, devnull), -1);
    ASSERT_EQ(cfg.max_connections_per_ip, 4);
    ASSERT_EQ(cfg.max_connections, 0); /* from the open-file limit */
    ASSERT_EQ(cfg.max_memory, 0);      /* main picks it */
    char *mem[] = {"x", "--max-memory", "160M", NULL};
    ASSERT_EQ(config_load(&cfg, 3, mem, devnull, devnull), -1);
    ASSERT_EQ(cfg.max_memory, 160 << 20);
    char *nomem[] = {"x", "--max-memory=0", NULL};
    ASSERT_EQ(config_load(&cfg, 2, nomem, devnull, devnull), -1);
    ASSERT_EQ(cfg.max_memory, SIZE_MAX);
    ASSERT_EQ(cfg.log, ACCESSLOG_JSON); /* the default */
    char *logs[] = {"x", "--log", "text", NULL};
    ASSERT_EQ(config_load(&cfg, 3, logs, devnull, devnull), -1);
    ASSERT_EQ(cfg.log, ACCESSLOG_TEXT);
    ASSERT_EQ(cors_on(&cfg.cors), 0); /* none by default */
    ASSERT_EQ(cfg.connection_memory, 32 * 1024);
    char *cm[] = {"x", "--connection-memory", "256K", NULL};
    ASSERT_EQ(config_load(&cfg, 3, cm, devnull, devnull), -1);
    ASSERT_EQ(cfg.connection_memory, 256 * 1024);
    char *cors2[] = {"x", "--cors-origin", "https://a.example", "--cors-origin=http://[::1]:3000",
                     NULL};
    ASSERT_EQ(config_load(&cfg, 4, cors2, devnull, devnull), -1);
    ASSERT_EQ(cfg.cors.n, 2);
    ASSERT_STR_EQ(cors_allow(&cfg.cors, "http://[::1]:3000"), "http://[::1]:3000");
    ASSERT_STR_EQ(cors_allow(&cfg.cors, "HTTPS://A.example"), "HTTPS://A.example");
    ASSERT(cors_allow(&cfg.cors, "https://b.example") == NULL);
    ASSERT(cors_allow(&cfg.cors, NULL) == NULL);
    char *any[] = {"x", "--cors-origin", "*", NULL};
    ASSERT_EQ(config_load(&cfg, 3, any, devnull, devnull), -1);
    ASSERT_STR_EQ(cors_allow(&cfg.cors, "https://b.example"), "*");
    ASSERT(cors_header_list_ok("content-type, x-request-id"));
    ASSERT(!cors_header_list_ok("a\r\nb"));
    char *off[] = {"x", "--log=off", NULL};
    ASSERT_EQ(config_load(&cfg, 2, off, devnull, devnull), -1);
    ASSERT_EQ(cfg.log, ACCESSLOG_OFF);
    /* -h and --help print the usage on out, nothing on err, and exit 0. */
    char *helps[] = {"--help", "-h"};
    for (size_t i = 0; i < 2; i++) {
        char *help[] = {"x", helps[i], NULL};
        FILE *out = tmpfile(), *err = tmpfile();
        ASSERT(out != NULL && err != NULL);
        if (!out || !err)
            break;
        ASSERT_EQ(config_load(&cfg, 2, help, out, err), 0);
        char first[64] = "";
        rewind(out);
        ASSERT(fgets(first, sizeof first, out) != NULL);
        ASSERT_STR_EQ(first, "Usage: leakyrelu-server [OPTION]...\n");
        ASSERT_EQ(ftell(err), 0);
        fclose(out);
        fclose(err);
    }
    fclose(devnull);

    size_t n;
    ASSERT_EQ(config_parse_size("1024", &n), 0);
    ASSERT_EQ(n, 1024);
    ASSERT_EQ(config_parse_size("64M", &n), 0);
    ASSERT_EQ(n, 64 << 20);
    ASSERT_EQ(config_parse_size("1GiB", &n), 0);
    ASSERT_EQ(n, 1 << 30);
    ASSERT_EQ(config_parse_size("8k", &n), 0);
    ASSERT_EQ(n, 8192);
    ASSERT_EQ(config_parse_size("0", &n), -1);
    ASSERT_EQ(config_parse_size("-5", &n), -1);
    ASSERT_EQ(config_parse_size("5T", &n), -1);
    ASSERT_EQ(config_parse_size("99999999999999999999", &n), -1);
}
