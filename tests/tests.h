/* Every test of the test binary, in running order: module by module, the
 * ones the others stand on first, then the integration tests. Shared
 * helpers are in helpers.h. */
#ifndef LEAKYRELU_TESTS_H
#define LEAKYRELU_TESTS_H

#define TEST_LIST(X)                                                           \
    /* test_numfmt.c */                                                        \
    X(numfmt_layout)                                                           \
    X(numfmt_vectors)                                                          \
    X(numfmt_vs_reference)                                                     \
    X(numfmt_fast_vs_exact)                                                    \
    X(numfmt_f32_layout)                                                       \
    X(numfmt_f32_vs_reference)                                                 \
    X(numfmt_f32_round_trip)                                                   \
    /* test_numparse.c */                                                      \
    X(numparse_grammar)                                                        \
    X(numparse_vectors)                                                        \
    X(numparse_fxx)                                                            \
    X(numcodec_roundtrip)                                                      \
    X(numparse_vs_strtod)                                                      \
    X(numparse_sticky)                                                         \
    X(numparse_run)                                                            \
    X(numparse_count_commas)                                                   \
    X(numparse_f32)                                                            \
    X(numparse_tie_free)                                                       \
    /* test_errors.c, test_utf8.c */                                           \
    X(errors_table)                                                            \
    X(budget_accounts)                                                         \
    X(budget_waits)                                                            \
    X(budget_claims)                                                           \
    X(budget_default)                                                          \
    X(utf8_sanitize)                                                           \
    /* test_drain.c, test_metrics.c, test_reqid.c, test_accesslog.c */         \
    X(drain)                                                                   \
    X(drain_stop_listening)                                                    \
    X(metrics_render)                                                          \
    X(reqid)                                                                   \
    X(accesslog_lines)                                                         \
    X(accesslog_stalled)                                                       \
    /* test_lrelu.c */                                                         \
    X(lrelu_scalar)                                                            \
    X(lrelu_scalar_f32)                                                        \
    X(lrelu_dispatch)                                                          \
    X(lrelu_variant_sse2)                                                      \
    X(lrelu_variant_f32_sse2)                                                  \
    X(lrelu_variant_avx2)                                                      \
    X(lrelu_variant_f32_avx2)                                                  \
    X(lrelu_variant_avx512f)                                                   \
    X(lrelu_variant_f32_avx512f)                                               \
    X(lrelu_variant_neon)                                                      \
    X(lrelu_variant_f32_neon)                                                  \
    /* test_tensor.c */                                                        \
    X(mem_grow)                                                                \
    X(tensor_write_repeats)                                                    \
    X(tensor_write_pieces)                                                     \
    /* test_pool.c */                                                          \
    X(pool)                                                                    \
    X(pool_group)                                                              \
    /* test_request.c */                                                       \
    X(request_decode)                                                          \
    X(request_shapes)                                                          \
    X(request_deep)                                                            \
    /* test_request_oip.c */                                                   \
    X(request_oip)                                                             \
    X(request_oip_errors)                                                      \
    /* test_request_parts.c */                                                 \
    X(request_parallel_runs)                                                   \
    X(request_rows)                                                            \
    /* test_request_reader.c */                                                \
    X(request_reader)                                                          \
    X(request_reader_ahead)                                                    \
    X(request_reader_skips)                                                    \
    /* test_compute.c, test_stream.c */                                        \
    X(compute_parts)                                                           \
    X(compute_parts_f32)                                                       \
    X(compute_channels)                                                        \
    X(compute_nonfinite)                                                       \
    /* test_infer.c */                                                         \
    X(infer_forward)                                                           \
    X(infer_backward_prelu)                                                    \
    X(infer_float32)                                                           \
    X(infer_errors)                                                            \
    /* test_pb.c, test_rpc.c */                                                \
    X(pb_wire)                                                                 \
    X(pb_split)                                                                \
    X(rpc_infer)                                                               \
    X(rpc_errors)                                                              \
    X(rpc_methods)                                                             \
    X(stream_read)                                                             \
    X(stream_free_early)                                                       \
    /* test_api.c */                                                           \
    X(errors_render)                                                           \
    X(api_quote_bytes)                                                         \
    X(api_compute)                                                             \
    X(api_common_mistakes)                                                     \
    X(api_routes)                                                              \
    X(api_torch_cases)                                                         \
    X(api_torch_f32)                                                           \
    X(api_torch_prelu)                                                         \
    X(api_prelu_edges)                                                         \
    X(api_f32_ties)                                                            \
    X(api_f32_errors)                                                          \
    X(api_large_replies)                                                       \
    X(api_budget)                                                              \
    /* test_api_binary.c */                                                    \
    X(api_binary_compute)                                                      \
    X(api_binary_errors)                                                       \
    /* test_api_oip.c */                                                       \
    X(api_oip_routes)                                                          \
    X(api_oip_torch)                                                           \
    X(api_oip_binary)                                                          \
    X(api_oip_errors)                                                          \
    /* test_plot.c, test_api_plot.c */                                         \
    X(plot_check)                                                              \
    X(plot_bound)                                                              \
    X(plot_text)                                                               \
    X(api_plot)                                                                \
    X(api_page)                                                                \
    /* test_coding.c */                                                        \
    X(coding)                                                                  \
    /* test_framing.c */                                                       \
    X(framing)                                                                 \
    X(framing_fields)                                                          \
    X(framing_target)                                                          \
    /* test_config.c */                                                        \
    X(config)                                                                  \
    /* test_server.c: the real binary over HTTP */                             \
    X(http_endpoints)                                                          \
    X(http_compute)                                                            \
    X(http_errors)                                                             \
    X(http_body_limit)                                                         \
    X(http_torch_cases)                                                        \
    X(http_torch_f32)                                                          \
    X(http_torch_prelu)                                                        \
    X(http_prelu_10m)                                                          \
    X(http_f32_streamed)                                                       \
    X(http_stream)                                                             \
    X(http_stream_slow_reader)                                                 \
    X(http_stalled_reader)                                                     \
    /* test_server_protocols.c: binary, CORS, OIP, compression */              \
    X(http_binary)                                                             \
    X(http_cors)                                                               \
    X(http_oip)                                                                \
    X(http_compression)                                                        \
    /* test_server_pages.c: the picture and the playground */                  \
    X(http_plot)                                                               \
    X(http_playground)                                                         \
    /* test_server_ops.c: what operators see */                                \
    X(http_metrics_exact)                                                      \
    X(http_request_id)                                                         \
    X(http_access_log)                                                         \
    X(http_log_stalled)                                                        \
    /* test_server_life.c: connections and the process over time */            \
    X(http_keepalive)                                                          \
    X(http_concurrent)                                                         \
    X(http_garbage)                                                            \
    X(http_framing)                                                            \
    X(http_strict_edge)                                                        \
    X(http_many_connections)                                                   \
    X(http_per_ip_limit)                                                       \
    X(http_slow_clients)                                                       \
    X(http_vanishing_clients)                                                  \
    X(http_memory_budget)                                                      \
    X(http_queue_timeout)                                                      \
    X(http_queue_stall)                                                        \
    X(http_sigterm_under_load)                                                 \
    X(http_timeout)                                                            \
    X(http_shutdown)                                                           \
    X(http_flags)

#define TEST_DECLARE(name) void test_##name(void);
TEST_LIST(TEST_DECLARE)
#undef TEST_DECLARE

#endif
