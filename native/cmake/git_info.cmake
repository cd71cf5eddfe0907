# git_info.cmake: run at every build (cmake -P) by the lmr_git_info target. Writes OUT, a header
# with the commit of the checkout holding native/ and whether native/ differs from it, only when
# that changes, so a new commit or an edit re-stamps the library without rebuilding the rest.
#   cmake -DSRC=<native dir> -DOUT=<header> -P git_info.cmake
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY ${SRC}
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
set(dirty 0)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit "unknown")
else()
  # Tracked changes and untracked (not ignored) files under native/: what the build compiles.
  execute_process(COMMAND git status --porcelain --untracked-files=normal -- .
    WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE status ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT status STREQUAL "")
    set(dirty 1)
  endif()
endif()
set(text "/* lmr_git_info.h: written at build time by native/cmake/git_info.cmake; do not edit. */
#ifndef LMR_GIT_INFO_H
#define LMR_GIT_INFO_H
#define LMR_GIT_COMMIT \"${commit}\"
#define LMR_GIT_DIRTY ${dirty}
#endif
")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
