// predict: turn {schema, query} rows into ASTs with the trained student (or print token ids with --tokenize).
#include "config/cli.h"
#include "student/predict.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("predict", [&] {
    ToolCli cli(Tool::Predict, "predict",
                "Turn {schema, query} rows (or {prompt} rows) into ASTs with the trained student.\n"
                "Writes one JSON line per row: raw_output, ast (canonical) or parse_error, and timing.");
    bool tokenize = false;
    cli.app().add_flag(
        "--tokenize", tokenize,
        "Print the token ids of each row (one JSON array per line) with the model folder's "
        "tokenizer, through the chat template; {text} rows are encoded raw. Loads no weights.");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    const af::student::PredictSettings s = af::student::predict_settings(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    if (tokenize) {
      af::student::run_tokenize(s);
    } else {
      af::student::run_predict(s);
    }
    return 0;
  });
}
