# Fails when any C++ file under lib/, tools/ or tests/ differs from its clang-format form.
file(GLOB_RECURSE FILES ${SOURCE_DIR}/lib/*.cpp ${SOURCE_DIR}/lib/*.h ${SOURCE_DIR}/tools/*.cpp
     ${SOURCE_DIR}/tests/*.cpp ${SOURCE_DIR}/tests/*.h)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${FILES} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${err}\nrun `make format` to fix the formatting")
endif()
