// The number codec beside the libraries it is measured against (issue
// 26's anchors), in one process on the same numbers: writing a double
// (ours, numfmt_f64; the previous writer's Schubfach decisions alone,
// numfmt__exact_f64; std::to_chars; Dragonbox, as fmt writes with it) and
// a float32 (numfmt_f32 beside the same three), and
// reading one (ours, numparse_f64_run over the array as the service reads
// it, and numparse_f64 one number at a time; fast_float; strtod; simdjson
// On-Demand over the same numbers as a JSON array), for four kinds of 1M numbers:
// random finite doubles (any bits), replies (what /forward writes for the
// request bench's bodies: 17 digits, magnitudes from 10^-8 to 10^5),
// short decimals (up to 7 digits) and integers (below 10^9). Each time is the best of 7 passes, in ns per
// number. All libraries are Debian's packages (libfmt-dev 9.1,
// libfast-float-dev 3.9, libsimdjson-dev 3.0); C++17. Part of `make bench`.
// Usage: build/bench_anchors [COUNT]
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fast_float/fast_float.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <simdjson.h>

extern "C" {
#include "../src/numfmt.h"
#include "../src/numparse.h"
}

namespace {

// The four kinds, from one seed.
std::vector<double> numbers(const char *kind, size_t n)
{
    std::mt19937_64 rng(42);
    std::vector<double> v;
    v.reserve(n);
    while (v.size() < n) {
        double d;
        if (std::strcmp(kind, "random") == 0) {
            uint64_t bits = rng();
            std::memcpy(&d, &bits, sizeof d);
            if (!std::isfinite(d))
                continue;
        } else if (std::strcmp(kind, "replies") == 0) {
            /* what /forward writes for bench_codec's bodies: 17-digit
             * values up to 2^18 either side, the negatives times 0.01 */
            d = (double(rng() >> 11) / 9007199254740992.0 - 0.5) * double(1u << (rng() % 20));
            d = d > 0 ? d : d * 0.01;
        } else if (std::strcmp(kind, "short") == 0) {
            static const double tens[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};
            d = double(rng() % 10000000) / tens[rng() % 8] * (rng() & 1 ? -1 : 1);
        } else {
            d = double(rng() % 1000000000) * (rng() & 1 ? -1 : 1);
        }
        v.push_back(d);
    }
    return v;
}

// The best of 7 passes of fn over n numbers, in ns each.
template <class F> double best_ns(size_t n, F fn)
{
    double best = 1e30;
    for (int pass = 0; pass < 7; pass++) {
        auto t0 = std::chrono::steady_clock::now();
        fn();
        auto t1 = std::chrono::steady_clock::now();
        double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n);
        best = ns < best ? ns : best;
    }
    return best;
}

volatile size_t sink; // what the loops produce, so that none is optimized away

// The best time of write(x, buf) (returning the text's end) over v.
template <class T, class W> double write_ns(const std::vector<T> &v, W write)
{
    return best_ns(v.size(), [&] {
        size_t total = 0;
        char buf[64]; // >= NUMFMT_F64_BUF
        for (T x : v)
            total += size_t(write(x, buf) - buf);
        sink = total;
    });
}

void row(const char *what, const char *kind, const std::vector<std::pair<const char *, double>> &r)
{
    double best_other = 1e30;
    for (size_t i = 1; i < r.size(); i++) /* the libraries, not our own other paths */
        if (std::strcmp(r[i].first, "Schubfach only") != 0 &&
            std::strcmp(r[i].first, "one by one") != 0)
            best_other = r[i].second < best_other ? r[i].second : best_other;
    std::printf("  %-7s %-8s", what, kind);
    for (auto &[name, ns] : r)
        std::printf("  %s %6.1f", name, ns);
    std::printf("   ours / best library: %.2fx\n", r[0].second / best_other);
}

} // namespace

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    std::printf("ns per number, best of 7 passes over %zu numbers of each kind:\n", n);
    for (const char *kind : {"random", "replies", "short", "integers"}) {
        std::vector<double> v = numbers(kind, n);
        auto to_chars = [](auto x, char *b) { return std::to_chars(b, b + 64, x).ptr; };
        auto dragonbox = [](auto x, char *b) { return fmt::format_to(b, FMT_COMPILE("{}"), x); };
        row("write", kind,
            {{"ours", write_ns(v, [](double x, char *b) { return numfmt_f64(x, b); })},
             {"Schubfach only", write_ns(v, [](double x, char *b) { return numfmt__exact_f64(x, b); })},
             {"to_chars", write_ns(v, to_chars)},
             {"fmt (Dragonbox)", write_ns(v, dragonbox)}});
        std::vector<float> f(v.begin(), v.end()); /* float32: the same numbers, rounded, */
        if (std::strcmp(kind, "random") == 0) {  /* or random finite float32 bits */
            std::mt19937 rng32(7);
            for (float &x : f) {
                do {
                    uint32_t bits = uint32_t(rng32());
                    std::memcpy(&x, &bits, sizeof x);
                } while (!std::isfinite(x));
            }
        }
        row("write32", kind,
            {{"ours", write_ns(f, [](float x, char *b) { return numfmt_f32(x, b); })},
             {"Schubfach only", write_ns(f, [](float x, char *b) { return numfmt__exact_f32(x, b); })},
             {"to_chars", write_ns(f, to_chars)},
             {"fmt (Dragonbox)", write_ns(f, dragonbox)}});

        // The texts to read: ours, as a JSON array for simdjson.
        std::string json = "[";
        std::vector<size_t> at;
        for (double d : v) {
            char buf[NUMFMT_F64_BUF];
            if (json.size() > 1)
                json += ", ";
            at.push_back(json.size());
            json.append(buf, size_t(numfmt_f64(d, buf) - buf));
        }
        json += "]";
        const char *base = json.data(), *end = base + json.size();
        double r_ours = best_ns(n, [&] {
            double s = 0, x;
            const char *stop;
            for (size_t o : at)
                if (numparse_f64(base + o, end, &x, &stop) == NUMPARSE_OK)
                    s += x;
            sink = size_t(s);
        });
        /* The service's own loop: numparse_f64_run over the array's
         * inside, as simdjson walks the array. */
        std::vector<double> outv(n);
        double r_run = best_ns(n, [&] {
            const char *p = base + 1, *stop;
            size_t got = 0, k;
            while (got < n) {
                numparse_status st = numparse_f64_run(p, end, outv.data() + got, n - got, &k, &stop);
                got += k;
                p = stop;
                if (st == NUMPARSE_TIE) /* a float32 tie the run leaves to us (rare) */
                    numparse_f64(p, end, outv.data() + got++, &p);
                else if (st != NUMPARSE_OK || k == 0)
                    break;
                while (p < end && (*p == ',' || *p == ' '))
                    p++;
            }
            sink = got;
        });
        double r_ff = best_ns(n, [&] {
            double s = 0, x;
            for (size_t o : at) {
                fast_float::from_chars(base + o, end, x);
                s += x;
            }
            sink = size_t(s);
        });
        double r_strtod = best_ns(n, [&] {
            double s = 0;
            for (size_t o : at)
                s += std::strtod(base + o, nullptr);
            sink = size_t(s);
        });
        simdjson::padded_string padded(json);
        simdjson::ondemand::parser parser;
        double r_simd = best_ns(n, [&] {
            double s = 0;
            auto doc = parser.iterate(padded);
            for (auto e : doc.get_array())
                s += double(e.get_double());
            sink = size_t(s);
        });
        row("read", kind, {{"ours (run)", r_run}, {"one by one", r_ours}, {"fast_float", r_ff},
                           {"strtod", r_strtod}, {"simdjson", r_simd}});
    }
    return 0;
}
