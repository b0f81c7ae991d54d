// ds-build: the dataset stages (specs, schemas, samples, corpus, all) and `validate` (JSON Schema checks).
#include <fstream>
#include <iostream>
#include <memory>

#include "config/cli.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "dataset/settings.h"
#include "dataset/stage_schemas.h"
#include "dataset/stages.h"
#include "jsonschema/validate_stream.h"
#include "teacher/client.h"
#include "teachersim/server.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("ds-build", [&] {
    ToolCli cli(
        Tool::DsBuild, "ds-build",
        "Build the dataset: domain specs, schemas, (query, AST) samples, the SFT corpus and the eval set;\n"
        "or validate JSON instances against a JSON Schema.");
    CLI::App& app = cli.app();
    app.fallthrough();  // config flags may follow the subcommand name
    app.require_subcommand(0, 1);
    for (const char* stage : {"specs", "schemas", "samples", "corpus", "all"}) {
      app.add_subcommand(stage, std::string("Run the ") + stage + " stage");
    }
    CLI::App* validate = app.add_subcommand("validate", "Validate JSON instances against a JSON Schema");
    std::string schema_path, input = "-";
    bool document = false, format_assertion = false;
    validate
        ->add_option("--schema", schema_path, "The JSON Schema (2020-12 unless its $schema says draft-07)")
        ->required();
    validate->add_option("--input", input, "JSONL instances, one per line (- reads stdin)");
    validate->add_flag("--document", document, "Read the input as one JSON document instead of JSON lines");
    validate->add_flag("--format-assertion", format_assertion, "Check `format` (date, email, uri, ...) too");
    if (auto code = cli.parse(argc, argv)) return *code;

    Resolved cfg = cli.resolve_for_run();
    const af::dataset::DatasetSettings settings = af::dataset::dataset_settings(cfg);
    af::teacher::TeacherSettings teacher_settings = af::teacher::teacher_settings(cfg);
    if (cli.dry_run())
      return cli.print_dry_run(cfg,
                               {{"stages", settings.to_json()}, {"teacher", teacher_settings.to_json()}});
    if (validate->parsed()) {
      af::jsonschema::Options options;
      options.format_assertion = format_assertion;
      auto schema = af::jsonschema::compile_schema_file(schema_path, options);
      af::jsonschema::StreamCounts counts;
      if (input == "-") {
        counts = af::jsonschema::validate_stream(schema, std::cin, document, std::cout);
      } else {
        std::ifstream in(input, std::ios::binary);
        if (!in) throw af::usage_error(input + ": cannot open", "check the --input path");
        counts = af::jsonschema::validate_stream(schema, in, document, std::cout, input);
      }
      std::cerr << "ds-build validate: " << counts.valid << " valid, " << counts.invalid << " invalid\n";
      return counts.invalid == 0 ? 0 : 1;
    }
    const std::string stage = app.get_subcommands().empty() ? "" : app.get_subcommands().front()->get_name();
    if (stage == "schemas") {
      af::dataset::run_schemas_stage(settings);
      return 0;
    }
    if (stage == "corpus") {
      af::dataset::run_corpus_stage(settings);
      return 0;
    }
    if (stage == "specs" || stage == "samples" || stage == "all") {
      af::install_interrupt_handlers();
      std::unique_ptr<af::teachersim::ServerThread> offline;
      if (settings.offline_fallback) {
        offline = std::make_unique<af::teachersim::ServerThread>(
            af::teachersim::Sim(af::teachersim::Lexicon::load(settings.lexicon_dir),
                                af::dataset::load_operator_catalog(settings.schemas.operator_catalog),
                                settings.seed),
            af::teachersim::Faults{}, settings.seed);
        teacher_settings.hosts = {offline->url()};
        af::log_warn("offline_fallback: answering with an in-process teacher-sim, not ",
                     teacher_settings.model);
      }
      af::teacher::TeacherClient teacher(teacher_settings);
      teacher.check_reachable();
      if (stage == "specs" || stage == "all") af::dataset::run_specs_stage(settings, teacher);
      if (stage == "all") af::dataset::run_schemas_stage(settings);
      if (stage == "samples" || stage == "all") af::dataset::run_samples_stage(settings, teacher);
      if (stage == "all") af::dataset::run_corpus_stage(settings);
      return 0;
    }
    throw af::usage_error("no stage given",
                          "ds-build specs|schemas|samples|corpus|all|validate (see --help)");
  });
}
