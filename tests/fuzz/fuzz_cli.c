/*
 * fuzz_cli.c - libFuzzer harness of the riskengine program's command line: the input is an
 * argument vector (arguments separated by NUL bytes; the first is the command), handed to the
 * command as main() would, with cli_parse_only set so that every command checks its options
 * and stops where its work would begin: nothing is created, loaded or run, nothing is exec'd.
 *
 * Checked beyond the sanitizers: a command line that is refused is CLI_USAGE with one line of
 * reason on standard error (more only when an argument it quotes holds a line break); one that is
 * accepted stops with CLI_FAIL and has printed nothing (a reason printed there would be a bad
 * command line reported as a failed run, exit 1 instead of 2). Arguments "--help" and "-h" print
 * the help and exit the process: such inputs are skipped.
 */
#include <stdbool.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_ARGS 64

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"generate", cmd_generate}, {"values", cmd_values},     {"grid", cmd_grid},
    {"var", cmd_var},           {"stress", cmd_stress},     {"batch", cmd_batch},
    {"topology", cmd_topology}, {"backtest", cmd_backtest},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_parse_only = true;
    /* The arguments, NUL-terminated copies of the input's pieces. */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "riskengine";
    for (char *p = text; p <= text + size && argc <= MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    int cmd = -1;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = (int)i;
    bool help = false, breaks = false;
    for (int i = 2; i < argc; i++) {
        help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
        breaks |= strpbrk(argv[i], "\n\r") != NULL;
    }
    if (cmd < 0 || help) {
        free(text);
        return 0;
    }

    /* Standard error into memory for the call (the sanitizers write to the descriptor, not
     * to this stream, so their reports still show). */
    char *err = NULL;
    size_t errlen = 0;
    FILE *mem = open_memstream(&err, &errlen);
    if (mem == NULL) {
        free(text);
        return 0;
    }
    FILE *saved = stderr;
    stderr = mem;
    int status = commands[cmd].run(argc - 1, argv + 1);
    stderr = saved;
    fclose(mem);

    size_t lines = 0;
    for (size_t i = 0; i < errlen; i++)
        lines += err[i] == '\n';
    if (status == CLI_USAGE && (errlen == 0 || err[errlen - 1] != '\n' || (lines != 1 && !breaks)))
        fuzz_fail("refused command line: %zu lines of reason: '%s'", lines, err);
    if (status == CLI_FAIL && errlen != 0)
        fuzz_fail("accepted command line, yet printed: '%s'", err);
    if (status != CLI_USAGE && status != CLI_FAIL)
        fuzz_fail("status %d (want %d or %d)", status, CLI_USAGE, CLI_FAIL);
    free(err);
    free(text);
    return 0;
}
